"""Batches of parameter sets: the one convention every vectorised kernel follows.

A physics function evaluates one parameter set when its parameters are numbers, and a batch of P parameter sets
when they are arrays of shape (P,) — one value per set, in the same SI units.  The result then carries the batch
axis first: shape (P, *points) instead of points.  Inside, a parameter meets an array of points or quadrature nodes
through :func:`expand`, which adds the trailing axes it needs; a number passes unchanged, so one code path serves
the single evaluation (a batch of none) and the batch, and the two agree to rounding.
"""

from __future__ import annotations

import numpy as np

#: Elements (1 MB of float64) of the largest temporary array a batched kernel forms at once: kernels whose
#: (sets × points × nodes) arrays would be larger take the points a slice at a time, inside a core's cache.
CACHE_ELEMENTS = 2**17
#: Parameter sets handed to the models in one call by the objective's batch methods and the optimiser (larger
#: batches are split): the cost per set of the KKI models stops falling near 32 (benchmarks/batch.py).
BATCH_SIZE = 32


def expand(value, ndim: int):
    """``value`` (a number, or shape (P,): one per parameter set) with ``ndim`` trailing axes added to a batch, so
    that it broadcasts against an array of ``ndim`` axes and puts the batch axis first; a number unchanged."""
    value = np.asarray(value, dtype=float)
    return value if value.ndim == 0 else value.reshape(value.shape + (1,) * ndim)


def batch_slices(size: int, largest: int = BATCH_SIZE) -> list[slice]:
    """Slices of ``size`` parameter sets into batches of at most ``largest``."""
    return [slice(start, min(start + largest, size)) for start in range(0, size, largest)]


def batch_shape(*values) -> tuple[int, ...]:
    """() if every value is a number, else (P,): the common batch shape of parameter values."""
    shapes = {np.shape(v) for v in values} - {()}
    if len(shapes) > 1:
        raise ValueError(f"parameter batches of different sizes {sorted(shapes)}")
    return shapes.pop() if shapes else ()


__all__ = ["BATCH_SIZE", "CACHE_ELEMENTS", "batch_shape", "batch_slices", "expand"]
