"""Standard-tunnelling-model quantities shared by several observables, from the SI values of the STM rows.

The one-phonon relaxation constant K_τ (physics.md §5.3) enters Black's c(T, t) (:mod:`glassfit.models.time_heat`,
and :class:`~glassfit.models.heat.STMHeatCapacityModel` at a measurement time) and the ultrasonic relaxation
(:mod:`glassfit.models.acoustic`); the tunnelling strength C_α = P̄ γ_α²/(ρ v_α²) (physics.md §0, §5.2) the
ultrasonic models.  ``si`` is a mapping of the SI values of the rows (:meth:`glassfit.models.base.GlassModel.si`):
P0 [J⁻¹ m⁻³], gamma_l, gamma_t [J], rho [kg m⁻³], v_l, v_t [m s⁻¹].
"""

from __future__ import annotations

from glassfit.observables import scattering


def relaxation_constant(si) -> float:
    """K_τ = (γ_l²/v_l⁵ + 2γ_t²/v_t⁵)/(2π ρ ħ⁴) [J⁻³ s⁻¹] (physics.md §5.3)."""
    return scattering.relaxation_constant(si["gamma_l"], si["gamma_t"], si["rho"], si["v_l"], si["v_t"])


def tunnelling_strength(branch: str, si) -> float:
    """C_α = P̄ γ_α²/(ρ v_α²) (dimensionless) of ``branch`` "l" or "t" (physics.md §0, §5.2)."""
    return si["P0"] * si["gamma_" + branch] ** 2 / (si["rho"] * si["v_" + branch] ** 2)


__all__ = ["relaxation_constant", "tunnelling_strength"]
