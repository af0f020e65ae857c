"""What the KKI models share: the material from the KKI rows, the couplings, the reported combinations and the
validity conditions (physics.md §1, §3, §5).

Functions named ``*_si`` take the SI values of the rows (a mapping keyed by ``row.si``: w [J], N [m⁻³], χ [J per
unit y], ρ [kg m⁻³], v [m s⁻¹]; η_c, ξ_c, η_L, ξ_L, χ_t/χ_l dimensionless), as the kernels have them; the others
take parameter values in table units (w [K], log10_N, χ [eV]: what fits, results and reports hold) and convert
them through the rows of :mod:`glassfit.models.rows`.
"""

from __future__ import annotations

import numpy as np

from glassfit import constants
from glassfit.density import U_TILDE_MAX, U_TILDE_MIN, deep_barrier_fraction
from glassfit.distributions import KKIDistribution
from glassfit.models.base import si_values
from glassfit.models.rows import CHI_ROWS, CONCENTRATION, KKI_ROWS, RHO, TRANSVERSE_CHI, V_L, V_T
from glassfit.observables.conductivity import kki_coupling
from glassfit.potential import PotentialScales

#: Largest kT/w of the two-level description: above it the thermal energies (≈ 20 kT) pass 0.8 w, the top of
#: the doublet tables, above which n(u) and the couplings are continued flat (no doublet exists above 0.86 w).
#: At kT = w/25 the two-level c (with phonons) differs from the multilevel sum by 5.3e-6 (defaults), by 7.5e-5 at w/15.
TWO_LEVEL_LIMIT = 1.0 / 25.0
#: Share of the TLS at u = kT beyond the doublet tables above which the equilibrium KKI c warns.
DEEP_BARRIER_LIMIT = 0.01
#: Energies at which that share is computed for the warning (interpolated between them)
WARNING_GRID = 64
#: Step in ln u of the centred differences of :func:`log_slope`.  The densities are cubic splines in (ln u, ln n)
#: with knots 0.47 apart (C²), so the truncation error h² |d³ln n/d ln u³|/6 is ≈ 1e-7 and the rounding error
#: ≈ 1e-16 |ln n|/h ≈ 1e-11 at h = 1e-3.
LOG_SLOPE_STEP = 1e-3
#: The rows of the coupling-weighted KKI observables (κ, ultrasound, c(T, t)).
COUPLED_ROWS = (*KKI_ROWS, *CHI_ROWS, RHO, V_L, V_T)


def kki_material_si(si) -> tuple[PotentialScales, KKIDistribution]:
    """(PotentialScales, KKIDistribution) from the SI values of the KKI rows (w [J], N [m⁻³]; physics.md §1.1, §3.1)."""
    return (PotentialScales(w=si["w"], eta_L=si["eta_L"], xi_L=si["xi_L"]),
            KKIDistribution(si["eta_c"], si["xi_c"], si["N"]))


def kki_material(params) -> tuple[PotentialScales, KKIDistribution]:
    """(PotentialScales, KKIDistribution) from KKI parameter values in table units (a dict or
    ``Parameters.valuesdict()``: w [K], log10_N [log10 m⁻³])."""
    return kki_material_si(si_values(KKI_ROWS, params))


def kki_chi_si(si) -> dict[str, tuple[float, float]]:
    """{"l": (χ_1, χ_2), "t": ratio·(χ_1, χ_2)} [J per unit y] from the SI values of the χ rows (physics.md §5.1)."""
    chi_l = (si["chi_1"], si["chi_2"])
    return {"l": chi_l, "t": tuple(si["chi_t_ratio"] * c for c in chi_l)}


def kki_chi(params) -> dict[str, tuple[float, float]]:
    """{"l": (χ_1, χ_2), "t": ratio·(χ_1, χ_2)} in J per unit y, from KKI parameter values (χ in eV)."""
    return kki_chi_si(si_values(CHI_ROWS, params))


def kki_coupling_si(branch: str, si):
    """Σ_j χ_jα² X_j(E) [J m⁻³] of ``branch`` α as a function of E [J] (physics.md §5.2), from the SI values of the
    KKI and χ rows and, for α = t, the transverse couplings χ_jt (:data:`~glassfit.models.rows.TRANSVERSE_CHI`)."""
    scales, dist = kki_material_si(si)
    chi = (si["chi_1"], si["chi_2"]) if branch == "l" else (si["chi_1t"], si["chi_2t"])
    return kki_coupling(scales, dist, *chi)


def coupled_si(values) -> dict:
    """The SI keywords of the coupling-weighted KKI kernels (:data:`COUPLED_ROWS` and the transverse couplings)
    from parameter values in table units."""
    return si_values(COUPLED_ROWS, values) | {scaled.si: scaled.to_si(values) for scaled in TRANSVERSE_CHI}


def reference_temperature(x: dict) -> float:
    """T_ref [K]: the geometric mean of the data's temperatures ``x["T"]``."""
    return float(np.exp(np.mean(np.log(np.asarray(x["T"], float)))))


def log_slope(func, u: float, step: float = LOG_SLOPE_STEP) -> float:
    """d ln func/d ln u at u [J], by a centred difference in ln u with ``step``; func(u) > 0."""
    hi, lo = (float(np.asarray(func(np.array([u * np.exp(s)])))[0]) for s in (step, -step))
    return float(np.log(hi / lo) / (2.0 * step))


def double_well_quantity(values) -> dict[str, tuple[float, str, str]]:
    """{"double_well_fraction": (value, "1", description)} of KKI parameter values in table units
    (:meth:`KKIDistribution.double_well_fraction`)."""
    _, dist = kki_material(values)
    return {"double_well_fraction": (dist.double_well_fraction(values["eta_L"], values["xi_L"]), "1",
                                     "fraction of the local potentials that are double wells, α < 9β²/32")}


def kki_coupling_quantities(values: dict, x: dict, branch: str = "l") -> dict[str, tuple[float, str, str]]:
    """C_eff = Σ_j χ_j² X_j(E)/(ρ v²) of ``branch`` at E = 3 k T_ref (dimensionless; physics.md §5.2), its
    log-slope μ = d ln[Σ_j χ_j² X_j(u)]/d ln u there, and the double-well fraction, from KKI parameter values in
    table units."""
    si = coupled_si(values)
    coupling = kki_coupling_si(branch, si)
    energy = 3.0 * constants.k_B * reference_temperature(x)
    strength = float(coupling(np.array([energy]))[0]) / (si["rho"] * si["v_" + branch] ** 2)
    return {"C_eff": (strength, "1", f"KKI tunnelling strength Σ_j χ_j² X_j(E)/(ρ v_{branch}²) at E = 3 k T_ref"),
            "mu": (log_slope(coupling, energy), "1", "log-slope d ln[Σ_j χ_j² X_j(u)]/d ln u at u = 3 k T_ref"),
            **double_well_quantity(values)}


def kki_validity_warnings(values: dict, x: dict, multilevel: bool = False, deep_barriers: bool = False) -> list[str]:
    """Warnings of a KKI model at parameter ``values`` (table units: w [K]) for data at temperatures ``x["T"]`` [K].

    * kT above the range at some points: w/25 for the two-level forms (:data:`TWO_LEVEL_LIMIT`), w for the
      ``multilevel`` sum (its truncations cost < 1e-6 for kT ≤ w, :mod:`glassfit.ensemble`).
    * ``deep_barriers`` (the equilibrium c): the TLS that dominate the equilibrium density are deep wells,
      and those beyond the doublet tables (A_b > 40, J < 1e-49 w; :func:`glassfit.density.deep_barrier_fraction`
      at u = kT) count in it but never relax in a measurement.  Warns where their share exceeds
      :data:`DEEP_BARRIER_LIMIT`.  The coupling-weighted observables (κ, ultrasound, c(T, t)) are carried by
      TLS at the threshold barrier A*(u), inside the tables for u ≤ 0.8 w — the first condition.
    """
    T = np.asarray(x["T"], float).ravel()
    w = values["w"]
    out = []
    limit, rule, what = ((1.0, "w", "the multilevel sum") if multilevel else
                         (TWO_LEVEL_LIMIT, f"w/{1 / TWO_LEVEL_LIMIT:g}", "the two-level description"))
    above = T > limit * w
    if above.any():
        out.append(f"kT > {rule} at {above.sum()} of {T.size} points (T up to {T.max():.3g} K; "
                   f"{what} needs kT ≲ {rule} = {limit * w:.3g} K)")
    if deep_barriers:
        scales, dist = kki_material(values)
        u = np.clip(constants.k_B * T, U_TILDE_MIN * scales.w, U_TILDE_MAX * scales.w)
        # on at most WARNING_GRID energies spanning the data, interpolated in ln u (the share is smooth in u),
        # so that a large file costs neither memory nor time here
        grid = np.geomspace(u.min(), u.max(), WARNING_GRID) if u.size > WARNING_GRID else np.sort(u)
        share = np.interp(np.log(u), np.log(grid), deep_barrier_fraction(grid, scales, dist))
        deep = share > DEEP_BARRIER_LIMIT
        if deep.any():
            out.append(f"more than {DEEP_BARRIER_LIMIT:.0%} of the TLS of energy kT lie beyond the doublet tables "
                       f"(A_b > 40, J < 1e-49 w) at {deep.sum()} of {T.size} points (up to {share.max():.1%}): "
                       "they count in the equilibrium c but never relax in a measurement; set t_exp")
    return out


class KKIFamily:
    """Mixin of every KKI model: the derived row N = 10**log10_N, and log10_N as the amplitude ``guess`` sets."""

    derived_rows = (CONCENTRATION,)
    amplitude = "log10_N"


class KKICoupled(KKIFamily):
    """Mixin of the coupling-weighted KKI models (κ, ultrasound, c(T, t)): the transverse couplings among the
    kernel's inputs, and the derived quantities and validity warnings, at parameter values in table units."""

    scaled_inputs = TRANSVERSE_CHI
    #: the branch whose C_eff is reported
    reporting_branch = "l"

    def derived_quantities(self, values: dict, x: dict) -> dict[str, tuple[float, str, str]]:
        """C_eff and μ at E = 3 k T_ref and the double-well fraction (:func:`kki_coupling_quantities`)."""
        return kki_coupling_quantities(values, x, self.reporting_branch)

    def validity_warnings(self, values: dict, x: dict) -> list[str]:
        """kT > w/25 at some points (:func:`kki_validity_warnings`)."""
        return kki_validity_warnings(values, x)


__all__ = ["COUPLED_ROWS", "DEEP_BARRIER_LIMIT", "LOG_SLOPE_STEP", "TWO_LEVEL_LIMIT", "WARNING_GRID",
           "KKICoupled", "KKIFamily", "coupled_si", "double_well_quantity", "kki_chi", "kki_chi_si",
           "kki_coupling_quantities", "kki_coupling_si", "kki_material", "kki_material_si", "log_slope",
           "reference_temperature"]
