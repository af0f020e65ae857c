"""Input checks shared by the public functions: one readable message per failure.

Inside :func:`trusted_inputs` the checks only convert: an objective checks its data once, when the dataset is made,
and its parameters lie inside the prior support, so the physics it calls on every likelihood evaluation does not
check them again.
"""

from __future__ import annotations

import contextlib
import contextvars

import numpy as np

_TRUSTED = contextvars.ContextVar("glassfit_trusted_inputs", default=False)


@contextlib.contextmanager
def trusted_inputs():
    """Within this context (this thread or task only) the functions below convert without checking."""
    token = _TRUSTED.set(True)
    try:
        yield
    finally:
        _TRUSTED.reset(token)


def inputs_trusted() -> bool:
    """Whether the caller is inside :func:`trusted_inputs`."""
    return _TRUSTED.get()


def finite_array(name: str, value) -> np.ndarray:
    """``value`` as a float array; ValueError naming ``name`` if it is not finite real numbers."""
    if _TRUSTED.get():
        return np.asarray(value, dtype=float)
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be real numbers, got {value!r}") from None
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite; got NaN or infinity")
    return arr


def positive_scalar(name: str, value) -> float:
    """``value`` as a float; ValueError naming ``name`` unless it is a finite number > 0.  Trusted, a batch of values
    (shape (P,), :mod:`glassfit.batching`) passes as an array."""
    if _TRUSTED.get():
        return float(value) if np.ndim(value) == 0 else np.asarray(value, dtype=float)
    arr = finite_array(name, value)
    if arr.ndim != 0:
        raise ValueError(f"{name} must be a single number, got shape {arr.shape}")
    if not arr > 0:
        raise ValueError(f"{name} must be > 0, got {float(arr)!r}")
    return float(arr)


def positive_array(name: str, value, label: str | None = None) -> np.ndarray:
    """``value`` as a float array of finite numbers > 0; ValueError naming ``label`` (default ``name``).

    A label may end in its unit in parentheses: "temperatures T (K)" → "temperatures T must be > 0 (K)".
    """
    if _TRUSTED.get():
        return np.asarray(value, dtype=float)
    arr = finite_array(name, value)
    if np.any(arr <= 0):
        text = label or name
        head, _, unit = text.partition(" (")
        raise ValueError(f"{head} must be > 0" + (f" ({unit}" if unit else ""))
    return arr


__all__ = ["finite_array", "inputs_trusted", "positive_array", "positive_scalar", "trusted_inputs"]
