"""Checks of the data against the regime a model describes, made before any fit.

:func:`data_flags` returns one readable line per problem.  Today: thermal conductivity whose log-slope
d ln κ/d ln T over the data is far from the resonant-scattering value 2 (physics.md §6: κ_TLS ∝ T²) —
such data are dominated by the plateau, boundary or crystalline phonons, and a tunnelling strength C
fitted to them is not the TLS coupling.
"""

from __future__ import annotations

import numpy as np

#: |d ln κ/d ln T − 2| above this flags κ(T) data as outside the resonant-scattering regime
SLOPE_TOLERANCE = 0.4


def log_slope(x, y) -> float:
    """Least-squares slope of ln y against ln x."""
    return float(np.polyfit(np.log(np.asarray(x, float)), np.log(np.asarray(y, float)), 1)[0])


def data_flags(observable: str, x: dict, y) -> list[str]:
    """Regime flags of one dataset (``observable`` as in the catalog; ``x`` its independent variables)."""
    flags = []
    if observable == "conductivity" and np.all(np.asarray(y) > 0) and len(np.unique(x["T"])) >= 3:
        slope = log_slope(x["T"], y)
        if abs(slope - 2.0) > SLOPE_TOLERANCE:
            flags.append(f"κ ∝ T^{slope:.2f} over {np.min(x['T']):.3g}–{np.max(x['T']):.3g} K, far from the T² of "
                         "resonant scattering by tunnelling states: the data are not in the resonant-scattering "
                         "regime, and a C fitted to them is not a tunnelling strength")
    return flags


__all__ = ["SLOPE_TOLERANCE", "data_flags", "log_slope"]
