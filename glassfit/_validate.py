"""Input checks shared by the public functions: one readable message per failure."""

from __future__ import annotations

import numpy as np


def finite_array(name: str, value) -> np.ndarray:
    """``value`` as a float array; ValueError naming ``name`` if it is not finite real numbers."""
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be real numbers, got {value!r}") from None
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite; got NaN or infinity")
    return arr


def positive_scalar(name: str, value) -> float:
    """``value`` as a float; ValueError naming ``name`` unless it is a finite number > 0."""
    arr = finite_array(name, value)
    if arr.ndim != 0:
        raise ValueError(f"{name} must be a single number, got shape {arr.shape}")
    if not arr > 0:
        raise ValueError(f"{name} must be > 0, got {float(arr)!r}")
    return float(arr)
