"""Time-dependent heat-capacity models c(T, t) of the temperature T [K] and the measurement time t [s]
(physics.md §7): Black's law of the standard tunnelling model and the KKI law, TLS by TLS.

Their SI kernels (:func:`~glassfit.models.heat.black_volumetric`, :func:`~glassfit.models.heat.kki_time_volumetric`)
are shared with the equilibrium models' ``t_exp`` option; phonons and output units as every
:class:`~glassfit.models.heat.HeatCapacityModel`.
"""

from __future__ import annotations

from glassfit.models.base import Reference
from glassfit.models.heat import HeatCapacityModel, black_volumetric, check_window, kki_time_volumetric
from glassfit.models.kki import KKICoupled
from glassfit.models.rows import CHI_ROWS, D0_MIN, GAMMA_ROWS, KKI_ROWS, P0, RHO, V_L, V_T


class TimeHeatModel(HeatCapacityModel):
    """c(T, t) [output units] of T [K] and t [s]: the SI kernel ``time_kernel(T, t, si, window)`` [J m⁻³ K⁻¹] of a
    subclass plus phonons; ``window`` "step" or "exponential" (physics.md §7.1)."""

    independent = ("T", "t")
    time_kernel = None

    def __init__(self, window: str, **kwargs):
        self.window = check_window(window)
        super().__init__(**kwargs)

    def volumetric(self, T, t, **si):
        """c_TLS(T, t) [J m⁻³ K⁻¹] from the SI row values."""
        return self.time_kernel(T, t, si, self.window)


class BlackTimeHeatModel(TimeHeatModel):
    """STM time-dependent specific heat c(T, t): Black's law with the exact arcsech n(E, t) (physics.md §7.1).

    Independent variables T [K] and the measurement time t [s]; ``window`` "step" or "exponential".
    Shares P0, γ_l, γ_t, ρ and the velocities with the other STM models.  ``cutoff=True`` adds the smallest
    tunnel splitting Δ0,min (row ``D0_min``, a largest λ): the relaxation times end at τ_min (E/Δ0,min)² and c(T, t)
    saturates at P̄ ln(2E/Δ0,min) — the STM's own way to bend away from the logarithm (physics.md §7.1).

    ``guess``: P̄ (and c₃, if free) by linear least squares of c/T on P̄ a(T, t) + s T², a the TLS c/T per unit P̄
    at the other defaults: Black's c is proportional to P̄ (K_τ does not depend on it), so exact for data of the
    model that differ in P̄ (and c₃).
    """

    name_id = "black_time_heat"
    physics_table = (P0, *GAMMA_ROWS, RHO, V_L, V_T)
    amplitude = "P0"
    linear_amplitude = True
    # the value this implementation gives (J/(g K), defaults, T = 0.1 K, t = 10 s); the physics is checked
    # independently by tests/test_timeheat.py::test_black_logarithm_slope_and_asymptote (the (π²/12) P̄ k² T ln t
    # law, physics.md §9 item 19) and tests/test_models.py::test_stm_heat_capacity_at_t_exp_follows_blacks_asymptote
    reference = Reference({}, {"T": 0.1, "t": 10.0}, 1.281206058655188e-07)

    time_kernel = staticmethod(black_volumetric)

    def __init__(self, window: str = "step", cutoff: bool = False, **kwargs):
        self.cutoff = bool(cutoff)
        if self.cutoff:
            self.physics_table = (*type(self).physics_table, D0_MIN)
        super().__init__(window, **kwargs)


class KKITimeHeatModel(KKICoupled, TimeHeatModel):
    """KKI time-dependent specific heat c(T, t), TLS by TLS with exact splittings and rates (physics.md §7.2).

    Independent variables T [K] and t [s]; ``window`` "exponential" (default) or "step".  Shares every KKI name
    (η_c, ξ_c, log10_N, w, η_L, ξ_L, χ_1, χ_2, χ_t/χ_l, ρ, v_l, v_t).

    ``guess``: log10 N scaled so that the model matches the data at the median T above the phonons, the rest at
    the defaults; c_TLS(T, t) ∝ N (the rates do not depend on N), so exact for data that differ in N alone.
    """

    name_id = "kki_time_heat"
    physics_table = (*KKI_ROWS, *CHI_ROWS, RHO, V_L, V_T)
    # the value this implementation gives (J/(g K), defaults, T = 0.1 K, t = 10 s); the physics is checked
    # independently by tests/test_timeheat.py::test_relaxed_fraction_kki_is_the_cdf_of_the_exact_times (the exact
    # relaxation times), ::test_kki_is_monotone_bounded_and_tends_to_equilibrium and
    # ::test_kki_closed_form_amplitude_and_black_slope_at_short_times (physics.md §9 item 20)
    reference = Reference({}, {"T": 0.1, "t": 10.0}, 8.387188535469369e-08)

    time_kernel = staticmethod(kki_time_volumetric)

    def __init__(self, window: str = "exponential", **kwargs):
        super().__init__(window, **kwargs)


__all__ = ["BlackTimeHeatModel", "KKITimeHeatModel", "TimeHeatModel"]
