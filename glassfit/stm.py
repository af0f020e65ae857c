"""The standard tunnelling model (Phillips; Anderson, Halperin & Varma): closed forms, the baseline (physics.md §4, §7).

P̄ is the STM density constant [J⁻¹ m⁻³] in the convention P(Δ, Δ0) = P̄/Δ0, Δ ≥ 0 (physics.md §0).
"""

from __future__ import annotations

import numpy as np

from glassfit import constants
from glassfit._validate import finite_array


def heat_capacity(T, P0, c3=0.0):
    """c = (π²/6) P̄ k² T + c₃ T³ [J m⁻³ K⁻¹] (physics.md §4.1; KKI eqs. 4.2–4.3).

    ``T`` [K], ``P0`` = P̄ [J⁻¹ m⁻³] (the equilibrium TLS density of states), ``c3`` [J m⁻³ K⁻⁴].
    """
    T = finite_array("T", T)
    return np.pi**2 / 6.0 * P0 * constants.k_B**2 * T + c3 * T**3


__all__ = ["heat_capacity"]
