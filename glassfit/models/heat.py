"""Heat-capacity models c(T): the standard tunnelling model and the KKI soft potentials (physics.md §3–4, §7).

:class:`HeatCapacityModel` adds the phonons (Debye from v_l, v_t, or a free c₃ T³; physics.md §4.2) to the
tunnelling-state part ``volumetric`` [J m⁻³ K⁻¹] of a subclass and converts per volume to the ``output`` unit:
"J/(g K)" (needs ρ), "J/(mol K)" (needs ρ and the molar mass) or "J/(m3 K)".  The SI kernels of c(T, t) at a
measurement time t [s] (:func:`black_volumetric`, :func:`kki_time_volumetric`; physics.md §7) live here too: the
equilibrium models take them at t = t_exp, the time-dependent models of :mod:`glassfit.models.time_heat` at every t.
"""

from __future__ import annotations

import numpy as np

from glassfit import constants
from glassfit.batching import expand
from glassfit.models.base import GlassModel, Reference, least_squares
from glassfit.models.kki import (
    KKIFamily,
    double_well_quantity,
    kki_chi_si,
    kki_material,
    kki_material_si,
    kki_validity_warnings,
    log_slope,
    reference_temperature,
)
from glassfit.models.rows import C3, CHI_ROWS, GAMMA_ROWS, KKI_ROWS, MOLAR_MASS, P0, RHO, V_L, V_T
from glassfit.models.stm import relaxation_constant
from glassfit.observables import timeheat
from glassfit.observables.heat import (
    debye_heat_capacity,
    kki_tls_density_spline,
    kki_tls_heat_capacity,
    multilevel_heat_capacity,
    stm_heat_capacity,
)
from glassfit.validation import positive_scalar

HEAT_UNITS = ("J/(g K)", "J/(mol K)", "J/(m3 K)")


def check_window(window: str) -> str:
    """``window`` checked against the relaxation windows of c(T, t) (physics.md §7.1)."""
    if window not in timeheat.WINDOWS:
        raise ValueError(f"window must be one of {timeheat.WINDOWS}, got {window!r}")
    return window


def check_time_options(t_exp, window):
    """``t_exp`` [s] (None or > 0) and ``window`` checked; returns t_exp as a float or None."""
    check_window(window)
    return None if t_exp is None else positive_scalar("t_exp", t_exp)


def black_volumetric(T, t, si, window):
    """Black's c(T, t) [J m⁻³ K⁻¹] at T [K], t [s] (physics.md §7.1) from the SI values of the STM rows (P0
    [J⁻¹ m⁻³], γ_l, γ_t [J], ρ, v_l, v_t), with the smallest tunnel splitting D0_min [J] where the rows have it."""
    if "D0_min" in si:
        return timeheat.black_cutoff_heat_capacity(T, t, si["P0"], relaxation_constant(si), si["D0_min"], window)
    return timeheat.black_heat_capacity(T, t, si["P0"], relaxation_constant(si), window)


def kki_time_volumetric(T, t, si, window):
    """KKI c(T, t) [J m⁻³ K⁻¹] at T [K], t [s], TLS by TLS with exact rates (physics.md §7.2), from the SI values
    of the KKI, χ, ρ and velocity rows."""
    scales, dist = kki_material_si(si)
    return timeheat.kki_heat_capacity(T, t, scales, dist, kki_chi_si(si), si["rho"], si["v_l"], si["v_t"], window)


class HeatCapacityModel(GlassModel):
    """Heat-capacity models: the subclass's ``volumetric(T, **si)`` [J m⁻³ K⁻¹] plus phonons, in ``output`` units.

    Parameters
    ----------
    output : {"J/(g K)", "J/(mol K)", "J/(m3 K)"}
        Unit of the returned heat capacity.
    phonons : {"debye", "free"}
        Phonon term from the sound velocities v_l, v_t (fixed by default) or a free c₃ T³ [J m⁻³ K⁻⁴].

    ``guess`` estimates the tunnelling-state amplitude (the row ``amplitude``): by linear least squares of c/T on
    the tunnelling-state c/T per unit amplitude and T² (the phonons) where c is linear in it
    (``linear_amplitude``), else by scaling the model to the data at the median point above the phonons.
    """

    vectorised = True

    #: c_TLS is proportional to the amplitude in its table unit (the STM's P̄)
    linear_amplitude: bool = False

    def __init__(self, output: str = "J/(g K)", phonons: str = "debye", **kwargs):
        if output not in HEAT_UNITS:
            raise ValueError(f"output must be one of {HEAT_UNITS}, got {output!r}")
        if phonons not in ("debye", "free"):
            raise ValueError(f"phonons must be 'debye' or 'free', got {phonons!r}")
        self.output, self.phonons = output, phonons
        table = list(self.physics_table)
        extra = ([V_L, V_T] if phonons == "debye" else [C3]) + ([RHO] if output != "J/(m3 K)" else [])
        extra += [MOLAR_MASS] if output == "J/(mol K)" else []
        table += [spec for spec in extra if spec.name not in {row.name for row in table}]
        super().__init__(table, **kwargs)

    def volumetric(self, T, **si):
        """The tunnelling-state heat capacity [J m⁻³ K⁻¹] at T [K] (and t [s]) from the SI row values."""
        raise NotImplementedError

    def kernel(self, T, **si):
        """c(T) [J m⁻³ K⁻¹]: :meth:`volumetric` plus the phonons."""
        T = np.asarray(T, dtype=float)
        c = self.volumetric(T, **si)
        if self.phonons == "debye":
            return c + debye_heat_capacity(T, si["v_l"], si["v_t"])
        return c + expand(si["c3"], T.ndim) * T**3

    def output_from_si(self, c, x, si):
        """c [J m⁻³ K⁻¹] in ``output`` units."""
        points = np.ndim(x["T"])
        if self.output == "J/(g K)":
            return constants.volumetric_to_specific(c, expand(si["rho"], points))
        if self.output == "J/(mol K)":
            return constants.volumetric_to_molar(c, expand(si["rho"], points), expand(si["molar_mass"], points))
        return c

    def to_volumetric(self, c, si):
        """c in ``output`` units -> J m⁻³ K⁻¹ (the inverse of :meth:`output_from_si`)."""
        if self.output == "J/(g K)":
            return constants.specific_to_volumetric(c, si["rho"])
        if self.output == "J/(mol K)":
            return c * si["rho"] / si["molar_mass"]
        return c

    def guess_amplitudes(self, data, x, params):
        """The amplitude (and c₃, if free) from ``data`` (see the class docstring)."""
        if not self.linear_amplitude:
            self.scale_at_median(data, x, params)
            return
        T = x["T"]
        si = self.si(self.table_values(params) | {self.amplitude: 1.0})
        per_unit = self.volumetric(**x, **si) / T
        amplitude, slope = least_squares([per_unit, T**2], self.to_volumetric(data, si) / T)
        params[self.amplitude].set(value=float(np.clip(amplitude, *self.spec(self.amplitude).bounds)))
        if self.phonons == "free":
            params["c3"].set(value=float(np.clip(slope, *C3.bounds)))


class STMHeatCapacityModel(HeatCapacityModel):
    """Standard tunnelling model: c = (π²/6) P̄ k² T + phonons (physics.md §4.1), or c at the measurement time.

    ``t_exp`` [s]: a measured c(T) is taken at a finite time, and only the TLS with τ ≤ t_exp contribute.
    None (default) gives the equilibrium form above.  A number gives Black's law with the exact arcsech
    n(E, t) (physics.md §7.1; :class:`~glassfit.models.time_heat.BlackTimeHeatModel` at t = t_exp), which needs
    K_τ and so adds the rows γ_l, γ_t, ρ, v_l, v_t (fixed by default).  Black's c has no t → ∞ limit: it grows as
    (π²/12) P̄ k² T ln(4t/τ_min(E*)), so the P̄ of the two forms differ — the equilibrium P̄ is Black's
    P̄ · ½ ln(4 t_exp/τ_min(E*)) (6.7–11 × Black's at 1 s over 0.05–1 K with the a-SiO2 defaults).
    ``window`` "step" (default) or "exponential" (physics.md §7.1).

    ``guess``: P̄ and c₃ (if free) by linear least squares of c/T on P̄ a(T) + s T², with a(T) the TLS c/T per
    unit P̄ at the other defaults (the constant (π²/6) k² · 1e45 J⁻¹ m⁻³ at equilibrium): exact for data of the
    model at any P̄ and c₃.
    """

    name_id = "stm_heat_capacity"
    physics_table = (P0,)
    amplitude = "P0"
    linear_amplitude = True
    # closed form (physics.md §4.1, §4.2): (π²/6) P̄ k² T + c_D T³ per volume, / ρ / 1000 for J/(g K); the Debye
    # coefficient c_D = 1.75520... J m⁻³ K⁻⁴ of (5800, 3750) m/s (physics.md §9 item 14)
    reference = Reference({"P0": 1.0, "v_l": 5800.0, "v_t": 3750.0, "rho": 2200.0}, {"T": 1.0},
                          (np.pi**2 / 6 * 1e45 * constants.k_B**2 * 1.0 + 1.7552066792904715) / 2.2e6)

    def __init__(self, output: str = "J/(g K)", phonons: str = "debye", t_exp: float | None = None,
                 window: str = "step", **kwargs):
        self.t_exp, self.window = check_time_options(t_exp, window), window
        if self.t_exp is not None:
            self.physics_table = (*type(self).physics_table, *(row.fixed() for row in GAMMA_ROWS), RHO, V_L, V_T)
        super().__init__(output=output, phonons=phonons, **kwargs)

    def volumetric(self, T, **si):
        """(π²/6) P̄ k² T, or Black's c(T, t_exp) [J m⁻³ K⁻¹]."""
        if self.t_exp is None:
            return stm_heat_capacity(T, si["P0"])
        return black_volumetric(T, self.t_exp, si, self.window)


class KKIHeatCapacityModel(KKIFamily, HeatCapacityModel):
    """KKI soft-potential TLS of both types with f = N h(η) g(ξ), plus phonons (physics.md §3–4).

    The potential enters through its scales w [K], η_L, ξ_L (physics.md §1.1), fixed by default at the
    worked magnitudes of physics.md §1.4 (ε = 1 K, A = B = C = 1 eV).

    ``t_exp`` [s]: a measured c(T) is taken at a finite time, and only the TLS that relax within it
    contribute.  None (default) gives the t → ∞ equilibrium c; a number gives the KKI c(T, t_exp), TLS
    by TLS with exact one-phonon rates (physics.md §7.2; :class:`~glassfit.models.time_heat.KKITimeHeatModel` at
    t = t_exp), which adds the rows χ_1, χ_2, χ_t/χ_l, ρ, v_l, v_t (fixed by default).  For the reference glass
    (the defaults) c_TLS(1 s)/c_TLS,eq is 0.75–0.92 over 0.05–1 K (exponential window; larger at higher T): the
    deep wells that dominate the equilibrium density relax slowly.  ``window`` "exponential"
    (default) or "step".  Two-level only (not with ``multilevel``).

    What c(T) alone constrains.  The singular values of ∂ln c/∂ln(η_c, ξ_c, N, w, η_L, ξ_L) over
    0.05–0.5 K (30 temperatures; η_c = 0.8, ξ_c = 1.2) are 18.5, 0.98, 0.042, 0.002, 0, 0: two
    directions are exact degeneracies (g enters only through ξ_c/ξ_L; and N trades against the
    scales), and with 2 % data only the leading combination — the amplitude of n(u), essentially
    N η_L ξ_L h g / w — is pinned (≈ 0.1 %); the second, the weak logarithmic slope d ln c/d ln T − 1
    (0.23–0.30 here), to ≈ 2 %; the rest is not constrained.  Fix η_L, ξ_L, w (or tie them to other
    observables in a joint fit) and fit N, or N and η_c.  :meth:`derived_quantities` reports those two
    combinations as n(kT_ref) and d ln n/d ln u.

    ``guess``: log10 N scaled so that the model matches the data at the median T above the phonons (the model at
    the lower bound of log10 N), the shapes at their defaults; c_TLS ∝ N, so exact for data of the model that
    differ in N alone.
    """

    name_id = "kki_heat_capacity"
    #: two-level systems only (fast, kT ≲ w/25) or the multilevel sum over every local potential
    multilevel: bool = False
    physics_table = KKI_ROWS
    # the value this implementation gives (J/(g K), defaults, T = 0.1 K); the physics is checked independently by
    # tests/test_heat.py::test_kki_heat_capacity_against_direct_quadrature (c from the exact density n(u)) and
    # tests/test_reference_glass.py::test_tls_heat_capacity (the measured a-SiO2 magnitude)
    reference = Reference({}, {"T": 0.1}, 1.0031492890070662e-07)

    def __init__(self, output: str = "J/(g K)", phonons: str = "debye", multilevel: bool = False,
                 t_exp: float | None = None, window: str = "exponential", **kwargs):
        """``multilevel=True`` sums every local potential's six lowest levels (physics.md §4.1; valid to
        kT ≈ w, ≈ 50 ms a temperature) instead of the two-level systems alone (≈ 1 ms for 100 T)."""
        self.multilevel = bool(multilevel)
        self.vectorised = not self.multilevel      # the multilevel sum is evaluated set by set in a batch
        self.t_exp, self.window = check_time_options(t_exp, window), window
        if self.t_exp is not None:
            if self.multilevel:
                raise ValueError("t_exp needs the two-level description (multilevel=False)")
            self.physics_table = (*KKI_ROWS, *(row.fixed() for row in CHI_ROWS), RHO, V_L, V_T)
        super().__init__(output=output, phonons=phonons, **kwargs)

    def volumetric(self, T, **si):
        """c_TLS [J m⁻³ K⁻¹]: two-level or multilevel equilibrium, or c(T, t_exp)."""
        if self.t_exp is not None:
            return kki_time_volumetric(T, self.t_exp, si, self.window)
        scales, dist = kki_material_si(si)
        heat = multilevel_heat_capacity if self.multilevel else kki_tls_heat_capacity
        return heat(T, scales, dist)

    def derived_quantities(self, values: dict, x: dict) -> dict[str, tuple[float, str, str]]:
        """n(u) = n_1 + n_2 [J⁻¹ m⁻³] and d ln n/d ln u at u = k T_ref (physics.md §3.2; the interpolated density
        the model integrates) and the double-well fraction."""
        scales, dist = kki_material(values)
        density = kki_tls_density_spline(scales, dist)
        u = constants.k_B * reference_temperature(x)
        return {"n_amplitude": (float(density(u)), "J^-1 m^-3",
                                "TLS density of states n_1 + n_2 at u = k T_ref (compare the STM P̄)"),
                "n_slope": (log_slope(density, u), "1", "logarithmic slope d ln n/d ln u at u = k T_ref"),
                **double_well_quantity(values)}

    def validity_warnings(self, values: dict, x: dict) -> list[str]:
        """kT beyond the two-level (w/25) or multilevel (w) range, and, for the equilibrium c, TLS beyond the
        doublet tables (see :func:`~glassfit.models.kki.kki_validity_warnings`)."""
        return kki_validity_warnings(values, x, multilevel=self.multilevel, deep_barriers=self.t_exp is None)


__all__ = ["HEAT_UNITS", "HeatCapacityModel", "KKIHeatCapacityModel", "STMHeatCapacityModel", "black_volumetric",
           "check_time_options", "check_window", "kki_time_volumetric"]
