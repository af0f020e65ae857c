"""lmfit Models of glassfit's observables, each declared from one parameter table.

A model is a :class:`lmfit.Model` of the temperature ``T`` [K] whose
parameters come from a tuple of :class:`ParameterSpec` (name, unit, default,
bounds, LaTeX label, description).  The same table feeds lmfit's hints, the
default priors, corner-plot labels and the command-line help.  Every model
has ``guess()`` and a ``random()`` parameter draw, and is registered in
:data:`REGISTRY` so that generic tests and the CLI can loop over all of them.

Outputs are converted from SI per volume at this edge only: "J/(g K)"
(needs ρ), "J/(mol K)" (needs ρ and the molar mass) or "J/(m3 K)".
"""

from __future__ import annotations

import dataclasses
import inspect
from dataclasses import dataclass

import lmfit
import numpy as np

from glassfit import constants
from glassfit.density import U_TILDE_MAX, U_TILDE_MIN, deep_barrier_fraction, mean_separation
from glassfit.distributions import KKIDistribution
from glassfit.observables import scattering, timeheat
from glassfit.observables.conductivity import POLARISATIONS, kki_coupling, thermal_conductivity
from glassfit.observables.heat import (
    debye_heat_capacity,
    kki_tls_density_spline,
    kki_tls_heat_capacity,
    multilevel_heat_capacity,
    stm_heat_capacity,
)
from glassfit.potential import PotentialScales
from glassfit.validation import positive_scalar


@dataclass(frozen=True)
class ParameterSpec:
    """One row of a model's parameter table."""

    name: str
    unit: str
    default: float
    bounds: tuple[float, float]
    latex: str
    description: str
    vary: bool = True
    log_scale: bool = False      # draw and propose on a log scale (positive quantities spanning decades)

    def __post_init__(self):
        lo, hi = self.bounds
        if not lo <= self.default <= hi:
            raise ValueError(f"default of {self.name} outside its bounds")


HEAT_UNITS = ("J/(g K)", "J/(mol K)", "J/(m3 K)")

_RHO = ParameterSpec("rho", "kg m^-3", 2200.0, (100.0, 25000.0), r"\rho",
                     "mass density (default: a-SiO2, physics.md §8); set it for your glass", vary=False)
_MOLAR = ParameterSpec("molar_mass", "kg mol^-1", 0.06008, (1e-3, 10.0), r"M",
                       "molar mass (default: SiO2); used for J/(mol K) output", vary=False)
_V_L = ParameterSpec("v_l", "m s^-1", 5800.0, (300.0, 15000.0), r"v_l",
                     "longitudinal sound velocity (default: a-SiO2, physics.md §8)", vary=False)
_V_T = ParameterSpec("v_t", "m s^-1", 3750.0, (200.0, 10000.0), r"v_t",
                     "transverse sound velocity (default: a-SiO2, physics.md §8)", vary=False)
_C3 = ParameterSpec("c3", "J m^-3 K^-4", 1.755, (0.0, 1e4), r"c_3",
                    "free T³ coefficient (default: the a-SiO2 Debye value)")


class _TableFunction:
    """The model function handed to lmfit: ``f(<independent variables>, <one argument per table row>)``.

    lmfit reads parameter names from the signature, so it is built from the table; a class rather
    than a closure keeps models picklable (process pools).
    """

    def __init__(self, model, names):
        self.model = model
        self.__name__ = model.name_id
        kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
        self.__signature__ = inspect.Signature([inspect.Parameter(n, kind) for n in [*model.independent, *names]])

    def __call__(self, *args, **kwargs):
        return self.model._evaluate(*args, **kwargs)


class GlassModel(lmfit.Model):
    """Base class: an lmfit.Model of ``T`` built from a parameter table.

    Subclasses set ``name_id``, ``physics_table`` and ``output``, assemble the full table (physics plus
    phonon, unit or extra-mechanism rows) and define ``_evaluate(T, **params)``.
    """

    name_id: str = ""
    #: independent variables, in the order the model function takes them
    independent: tuple[str, ...] = ("T",)
    #: parameters of the model proper (the physics), before the phonon, unit and mechanism rows
    physics_table: tuple[ParameterSpec, ...] = ()
    #: reference parameter values, a temperature and the function value they give, for the generic tests
    reference: tuple[dict, float, float] | None = None

    def __init__(self, table, **kwargs):
        self.parameter_table = tuple(table)
        names = [spec.name for spec in self.parameter_table]
        super().__init__(_TableFunction(self, names), independent_vars=list(self.independent),
                         param_names=names, name=self.name_id, **kwargs)
        for spec in self.parameter_table:
            self.set_param_hint(spec.name, value=spec.default, min=spec.bounds[0], max=spec.bounds[1],
                                vary=spec.vary)
        self._set_derived_hints()

    def _set_derived_hints(self):
        """Derived (expression) parameters, reported with the fit; none by default."""

    def fit(self, data, params=None, weights=None, *args, scale_covar=None, **kwargs):
        """:meth:`lmfit.Model.fit`, except that with ``weights`` (1/σ: the noise is known) the covariance is
        not rescaled by χ²_ν unless ``scale_covar=True`` is asked for; without weights it is (lmfit's default)."""
        scale_covar = weights is None if scale_covar is None else scale_covar
        return super().fit(data, params, weights, *args, scale_covar=scale_covar, **kwargs)

    def spec(self, name: str) -> ParameterSpec:
        """The table row of parameter ``name``."""
        for spec in self.parameter_table:
            if spec.name == name:
                return spec
        raise KeyError(f"{self.name_id} has no parameter {name!r}; it has {[s.name for s in self.parameter_table]}")

    def derived_quantities(self, values: dict, x: dict) -> dict[str, tuple[float, str, str]]:
        """The parameter combinations the data constrain, at parameter ``values`` and the data's independent
        variables ``x`` (dict of arrays, e.g. {"T": T}): name → (value, unit, one-line description).
        None by default."""
        return {}

    def validity_warnings(self, values: dict, x: dict) -> list[str]:
        """One readable line per validity condition of the model that the data at ``x`` break; none by default."""
        return []

    def random(self, rng=None) -> lmfit.Parameters:
        """Parameters with every varying one drawn inside its bounds (log-uniform where ``log_scale``)."""
        rng = np.random.default_rng(rng)
        params = self.make_params()
        for spec in self.parameter_table:
            if not spec.vary:
                continue
            lo, hi = spec.bounds
            if spec.log_scale:
                params[spec.name].set(value=float(np.exp(rng.uniform(np.log(lo), np.log(hi)))))
            else:
                params[spec.name].set(value=float(rng.uniform(lo, hi)))
        return params


_KKI_ROWS = (
    ParameterSpec("eta_c", "1", 0.8, (0.05, 1.5), r"\eta_c",
                  "decay scale of h(η) (KKI eq. 4.12); bounded so that double wells stay a minority: "
                  "29.5 % of all potentials at η_c = 1.5, ξ_c = 1.7 with the default η_L, ξ_L (physics.md §1.2)"),
    ParameterSpec("xi_c", "1", 1.2, (0.02, 1.7), r"\xi_c",
                  "width of g(ξ) (KKI eq. 4.12); bounded with η_c (double-well fraction 29.5 % at the corner)"),
    ParameterSpec("log10_N", "log10(m^-3)", 27.78, (20.0, 29.0), r"\log_{10} N",
                  "concentration of soft potentials N (KKI §4); at most an atomic density, 1e29 m^-3"),
    ParameterSpec("w", "K", 22.6, (1.0, 200.0), r"w", "energy scale w = C^(1/3) ε^(2/3) (KKI eq. 3.6)",
                  vary=False),
    ParameterSpec("eta_L", "1", 0.0442, (1e-3, 1.0), r"\eta_L", "scale of η (KKI eq. 3.7)", vary=False),
    ParameterSpec("xi_L", "1", 0.2102, (1e-3, 3.0), r"\xi_L", "scale of ξ (physics.md §1.1)", vary=False),

)


class HeatCapacityModel(GlassModel):
    """Heat-capacity models: the subclass's ``volumetric(T, **params)`` [J m⁻³ K⁻¹] plus phonons, in ``output`` units.

    Parameters
    ----------
    output : {"J/(g K)", "J/(mol K)", "J/(m3 K)"}
        Unit of the returned heat capacity.
    phonons : {"debye", "free"}
        Phonon term from the sound velocities v_l, v_t (fixed by default) or a free c₃ T³.
    """

    def __init__(self, output: str = "J/(g K)", phonons: str = "debye", **kwargs):
        if output not in HEAT_UNITS:
            raise ValueError(f"output must be one of {HEAT_UNITS}, got {output!r}")
        if phonons not in ("debye", "free"):
            raise ValueError(f"phonons must be 'debye' or 'free', got {phonons!r}")
        self.output, self.phonons = output, phonons
        table = list(self.physics_table)
        extra = ([_V_L, _V_T] if phonons == "debye" else [_C3]) + ([_RHO] if output != "J/(m3 K)" else [])
        extra += [_MOLAR] if output == "J/(mol K)" else []
        table += [spec for spec in extra if spec.name not in {row.name for row in table}]
        super().__init__(table, **kwargs)

    def _evaluate(self, T, *rest, **params):
        T = np.asarray(T, dtype=float)
        c = self.volumetric(T, *rest, **params)
        if self.phonons == "debye":
            c = c + debye_heat_capacity(T, params["v_l"], params["v_t"])
        else:
            c = c + params["c3"] * T**3
        if self.output == "J/(g K)":
            return constants.volumetric_to_specific(c, params["rho"])
        if self.output == "J/(mol K)":
            return constants.volumetric_to_molar(c, params["rho"], params["molar_mass"])
        return c


def _fixed(rows):
    """The table rows ``rows`` with vary=False (rows an observable needs but the data barely constrain)."""
    return tuple(dataclasses.replace(row, vary=False) for row in rows)


def _check_time_options(t_exp, window):
    """``t_exp`` [s] (None or > 0) and ``window`` checked; returns t_exp as a float or None."""
    if window not in timeheat.WINDOWS:
        raise ValueError(f"window must be one of {timeheat.WINDOWS}, got {window!r}")
    return None if t_exp is None else positive_scalar("t_exp", t_exp)


class STMHeatCapacityModel(HeatCapacityModel):
    """Standard tunnelling model: c = (π²/6) P̄ k² T + phonons (physics.md §4.1), or c at the measurement time.

    ``t_exp`` [s]: a measured c(T) is taken at a finite time, and only the TLS with τ ≤ t_exp contribute.
    None (default) gives the equilibrium form above.  A number gives Black's law with the exact arcsech
    n(E, t) (physics.md §7.1; :class:`BlackTimeHeatModel` at t = t_exp), which needs K_τ and so adds the
    rows γ_l, γ_t, ρ, v_l, v_t (fixed by default).  Black's c has no t → ∞ limit: it grows as
    (π²/12) P̄ k² T ln(4t/τ_min(E*)), so the P̄ of the two forms differ — the equilibrium P̄ is Black's
    P̄ · ½ ln(4 t_exp/τ_min(E*)) (6.7–11 × Black's at 1 s over 0.05–1 K with the a-SiO2 defaults).
    ``window`` "step" (default) or "exponential" (physics.md §7.1).
    """

    name_id = "stm_heat_capacity"
    physics_table = (
        ParameterSpec("P0", "1e45 J^-1 m^-3", 1.0, (1e-4, 1e4), r"\bar P",
                      "TLS density of states P̄ (STM convention, physics.md §0)", log_scale=True),
    )
    reference = ({"P0": 1.0, "v_l": 5800.0, "v_t": 3750.0, "rho": 2200.0}, 1.0,
                 (np.pi**2 / 6 * 1e45 * constants.k_B**2 * 1.0 + 1.7552066792904715) / 2.2e6)

    def __init__(self, output: str = "J/(g K)", phonons: str = "debye", t_exp: float | None = None,
                 window: str = "step", **kwargs):
        self.t_exp, self.window = _check_time_options(t_exp, window), window
        if self.t_exp is not None:
            self.physics_table = (*type(self).physics_table, *_fixed(_GAMMA_ROWS), _RHO, _V_L, _V_T)
        super().__init__(output=output, phonons=phonons, **kwargs)

    def volumetric(self, T, P0, **params):
        if self.t_exp is None:
            return stm_heat_capacity(T, P0 * 1e45)
        return _black_volumetric(T, self.t_exp, P0, params, self.window)

    def guess(self, data, T=None, **kwargs) -> lmfit.Parameters:
        """P̄ and c₃ (if free) from a linear least-squares fit of c/T to P̄ a(T) + s T², with a(T) the TLS c/T
        per unit P̄ at the other defaults (the constant (π²/6) k² · 1e45 at equilibrium)."""
        T = _guess_temperatures(T, kwargs)
        params = self.make_params()
        c_vol = self._to_volumetric(np.asarray(data, float), params)
        a = self.volumetric(T, **({k: p.value for k, p in params.items()} | {"P0": 1.0})) / T
        (p0, slope), *_ = np.linalg.lstsq(np.stack([a, T**2], axis=1), c_vol / T, rcond=None)
        params["P0"].set(value=float(np.clip(p0, *self.spec("P0").bounds)))
        if self.phonons == "free":
            params["c3"].set(value=float(np.clip(slope, *_C3.bounds)))
        return lmfit.models.update_param_vals(params, self.prefix, **kwargs)

    def _to_volumetric(self, c, params):
        if self.output == "J/(g K)":
            return constants.specific_to_volumetric(c, params["rho"].value)
        if self.output == "J/(mol K)":
            return c * params["rho"].value / params["molar_mass"].value
        return c


class KKIHeatCapacityModel(HeatCapacityModel):
    """KKI soft-potential TLS of both types with f = N h(η) g(ξ), plus phonons (physics.md §3–4).

    The potential enters through its scales w, η_L, ξ_L (physics.md §1.1), fixed by default at the
    worked magnitudes of physics.md §1.4 (ε = 1 K, A = B = C = 1 eV).

    ``t_exp`` [s]: a measured c(T) is taken at a finite time, and only the TLS that relax within it
    contribute.  None (default) gives the t → ∞ equilibrium c; a number gives the KKI c(T, t_exp), TLS
    by TLS with exact one-phonon rates (physics.md §7.2; :class:`KKITimeHeatModel` at t = t_exp), which
    adds the rows χ_1, χ_2, χ_t/χ_l, ρ, v_l, v_t (fixed by default).  For the reference glass (the
    defaults) c_TLS(1 s)/c_TLS,eq is 0.75–0.92 over 0.05–1 K (exponential window; larger at higher T): the
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
    """

    name_id = "kki_heat_capacity"
    #: two-level systems only (fast, kT ≲ w/25) or the multilevel sum over every local potential
    multilevel: bool = False
    physics_table = _KKI_ROWS

    def __init__(self, output: str = "J/(g K)", phonons: str = "debye", multilevel: bool = False,
                 t_exp: float | None = None, window: str = "exponential", **kwargs):
        """``multilevel=True`` sums every local potential's six lowest levels (physics.md §4.1; valid to
        kT ≈ w, ≈ 50 ms a temperature) instead of the two-level systems alone (≈ 1 ms for 100 T)."""
        self.multilevel = bool(multilevel)
        self.t_exp, self.window = _check_time_options(t_exp, window), window
        if self.t_exp is not None:
            if self.multilevel:
                raise ValueError("t_exp needs the two-level description (multilevel=False)")
            self.physics_table = (*_KKI_ROWS, *_fixed(_CHI_ROWS), _RHO, _V_L, _V_T)
        super().__init__(output=output, phonons=phonons, **kwargs)

    def _set_derived_hints(self):
        self.set_param_hint("N", expr="10**log10_N")

    def volumetric(self, T, **params):
        if self.t_exp is not None:
            return _kki_time_volumetric(T, self.t_exp, params, self.window)
        scales, dist = kki_material(params)
        heat = multilevel_heat_capacity if self.multilevel else kki_tls_heat_capacity
        return heat(T, scales, dist)

    def derived_quantities(self, values: dict, x: dict) -> dict[str, tuple[float, str, str]]:
        """n(u) = n_1 + n_2 and d ln n/d ln u at u = k T_ref (physics.md §3.2; the interpolated density the
        model integrates) and the double-well fraction."""
        scales, dist = kki_material(values)
        density = kki_tls_density_spline(scales, dist)
        u = constants.k_B * reference_temperature(x)
        return {"n_amplitude": (float(density(u)), "J^-1 m^-3",
                                "TLS density of states n_1 + n_2 at u = k T_ref (compare the STM P̄)"),
                "n_slope": (log_slope(density, u), "1", "logarithmic slope d ln n/d ln u at u = k T_ref"),
                **_double_well_quantity(values)}

    def validity_warnings(self, values: dict, x: dict) -> list[str]:
        """kT beyond the two-level (w/25) or multilevel (w) range, and, for the equilibrium c, TLS beyond the
        doublet tables (see :func:`kki_validity_warnings`)."""
        return kki_validity_warnings(values, x, multilevel=self.multilevel, deep_barriers=self.t_exp is None)

    def guess(self, data, T=None, **kwargs) -> lmfit.Parameters:
        """Defaults for the shapes; log10 N scaled so that the model matches the data at the median T."""
        T = _guess_temperatures(T, kwargs)
        params = self.make_params()
        mid = np.argsort(T)[len(T) // 2]
        values = {k: p.value for k, p in params.items() if k != "N"}
        model_mid = self.eval(T=T[mid:mid + 1], **values)[0]
        phonon = self.eval(T=T[mid:mid + 1], **(values | {"log10_N": self.spec("log10_N").bounds[0]}))[0]
        data_mid = float(np.asarray(data, float)[mid])
        if model_mid > phonon and data_mid > phonon:
            shift = np.log10((data_mid - phonon) / (model_mid - phonon))
            params["log10_N"].set(value=float(np.clip(values["log10_N"] + shift, *self.spec("log10_N").bounds)))
        return lmfit.models.update_param_vals(params, self.prefix, **kwargs)


_C_TLS = ParameterSpec("C", "1e-4", 3.0, (0.01, 100.0), r"C",
                       "tunnelling strength C = P̄γ²/(ρv²), taken equal for both branches (physics.md §0, §8)",
                       log_scale=True)
_RAYLEIGH = ParameterSpec("log10_A_R", "log10(s^4 m^-1)", -43.0, (-50.0, -35.0), r"\log_{10} A_R",
                          "Rayleigh-type plateau scattering l⁻¹ = A_R ω⁴ (physics.md §5.6)")
_W_SPM = ParameterSpec("W", "K", 4.0, (0.3, 50.0), r"W",
                       "soft-potential energy W: vibration scattering (πCω/v)(√2/12)(ħω/W)³ (physics.md §5.5)")
_BOUNDARY = ParameterSpec("L", "m", 1e-2, (1e-6, 1.0), r"L", "boundary scattering length l⁻¹ = 1/L (physics.md §5.6)",
                          log_scale=True)
_CHI_ROWS = (
    ParameterSpec("chi_1", "eV", 0.49, (1e-3, 100.0), r"\chi_1",
                  "coupling of type-1 TLS to longitudinal strain per unit y (D_1 = χ_1 δy; KKI eq. 5.6)",
                  log_scale=True),
    ParameterSpec("chi_2", "eV", 0.49, (1e-3, 100.0), r"\chi_2",
                  "coupling of type-2 TLS to longitudinal strain per unit y (D_2 = χ_2 δy; KKI eq. 5.6)",
                  log_scale=True),
    ParameterSpec("chi_t_ratio", "1", 1 / 1.64, (0.3, 1.0), r"\chi_t/\chi_l",
                  "transverse/longitudinal coupling ratio (γ_l/γ_t = 1.44–1.84 for 18 glasses, physics.md §8)",
                  vary=False),
)


def _guess_temperatures(T, kwargs):
    """The temperatures handed to ``guess`` (as T or, lmfit-style, x), checked."""
    if T is None:
        T = kwargs.pop("x", None)
    if T is None:
        raise ValueError("guess needs the temperatures: guess(data, T=...)")
    return np.asarray(T, dtype=float)


def kki_material(params):
    """(PotentialScales, KKIDistribution) from KKI parameter values (a dict or ``Parameters.valuesdict()``)."""
    scales = PotentialScales(w=params["w"] * constants.k_B, eta_L=params["eta_L"], xi_L=params["xi_L"])
    return scales, KKIDistribution(params["eta_c"], params["xi_c"], 10.0 ** params["log10_N"])


def _kki_coupling(branch, params):
    """Σ_j χ_j² X_j(E) of one branch (physics.md §5.2), χ_t = ratio · χ_l."""
    scales, dist = kki_material(params)
    ratio = 1.0 if branch == "l" else params["chi_t_ratio"]
    chi_1, chi_2 = (ratio * params[k] * constants.eV for k in ("chi_1", "chi_2"))
    return kki_coupling(scales, dist, chi_1, chi_2)


#: Largest kT/w of the two-level description: above it the thermal energies (≈ 20 kT) pass 0.8 w, the top of
#: the doublet tables, above which n(u) and the couplings are continued flat (no doublet exists above 0.86 w).
#: At kT = w/25 the two-level c differs from the multilevel sum by 1.4e-5 (defaults), by 4e-4 at w/15.
TWO_LEVEL_LIMIT = 1.0 / 25.0
#: Share of the TLS at u = kT beyond the doublet tables above which the equilibrium KKI c warns.
DEEP_BARRIER_LIMIT = 0.01
#: Energies at which that share is computed for the warning (interpolated between them)
WARNING_GRID = 64
#: Step in ln u of the centred differences of :func:`log_slope`.  The densities are cubic splines in (ln u, ln n)
#: with knots 0.47 apart (C²), so the truncation error h² |d³ln n/d ln u³|/6 is ≈ 1e-7 and the rounding error
#: ≈ 1e-16 |ln n|/h ≈ 1e-11 at h = 1e-3.
LOG_SLOPE_STEP = 1e-3


def reference_temperature(x: dict) -> float:
    """T_ref [K]: the geometric mean of the data's temperatures ``x["T"]``."""
    return float(np.exp(np.mean(np.log(np.asarray(x["T"], float)))))


def log_slope(func, u: float, step: float = LOG_SLOPE_STEP) -> float:
    """d ln func/d ln u at u [J], by a centred difference in ln u with ``step``; func(u) > 0."""
    hi, lo = (float(np.asarray(func(np.array([u * np.exp(s)])))[0]) for s in (step, -step))
    return float(np.log(hi / lo) / (2.0 * step))


def _double_well_quantity(values):
    """{"double_well_fraction": ...} of KKI parameter values (:meth:`KKIDistribution.double_well_fraction`)."""
    _, dist = kki_material(values)
    return {"double_well_fraction": (dist.double_well_fraction(values["eta_L"], values["xi_L"]), "1",
                                     "fraction of the local potentials that are double wells, α < 9β²/32")}


def kki_coupling_quantities(values: dict, x: dict, branch: str = "l") -> dict[str, tuple[float, str, str]]:
    """C_eff = Σ_j χ_j² X_j(E)/(ρ v²) of ``branch`` at E = 3 k T_ref (dimensionless; physics.md §5.2), its
    log-slope μ = d ln[Σ_j χ_j² X_j(u)]/d ln u there, and the double-well fraction, from KKI parameter values."""
    coupling = _kki_coupling(branch, values)
    energy = 3.0 * constants.k_B * reference_temperature(x)
    strength = float(coupling(np.array([energy]))[0]) / (values["rho"] * values["v_" + branch] ** 2)
    return {"C_eff": (strength, "1", f"KKI tunnelling strength Σ_j χ_j² X_j(E)/(ρ v_{branch}²) at E = 3 k T_ref"),
            "mu": (log_slope(coupling, energy), "1", "log-slope d ln[Σ_j χ_j² X_j(u)]/d ln u at u = 3 k T_ref"),
            **_double_well_quantity(values)}


def kki_validity_warnings(values: dict, x: dict, multilevel: bool = False, deep_barriers: bool = False) -> list[str]:
    """Warnings of a KKI model at parameter ``values`` for data at temperatures ``x["T"]`` [K].

    * kT above the range at some points: w/25 for the two-level forms (:data:`TWO_LEVEL_LIMIT`), w for the
      ``multilevel`` sum (its truncations cost < 1e-6 for kT ≤ w, :mod:`glassfit.ensemble`).
    * ``deep_barriers`` (the equilibrium c): the TLS that dominate the equilibrium density are deep wells,
      and those beyond the doublet tables (A_b > 40, J < 1e-50 w; :func:`glassfit.density.deep_barrier_fraction`
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
                       f"(A_b > 40, J < 1e-50 w) at {deep.sum()} of {T.size} points (up to {share.max():.1%}): "
                       "they count in the equilibrium c but never relax in a measurement; set t_exp")
    return out


def _black_volumetric(T, t, P0, params, window):
    """Black's c(T, t) [J m⁻³ K⁻¹] from STM parameter values (P0 in 1e45 J⁻¹ m⁻³, γ in eV; physics.md §7.1)."""
    k_tau = scattering.relaxation_constant(params["gamma_l"] * constants.eV, params["gamma_t"] * constants.eV,
                                           params["rho"], params["v_l"], params["v_t"])
    return timeheat.black_heat_capacity(T, t, P0 * 1e45, k_tau, window)


def _kki_time_volumetric(T, t, params, window):
    """KKI c(T, t) [J m⁻³ K⁻¹] from KKI parameter values (physics.md §7.2)."""
    scales, dist = kki_material(params)
    return timeheat.kki_heat_capacity(T, t, scales, dist, kki_chi(params), params["rho"], params["v_l"],
                                      params["v_t"], window)


class _KKICoupledReporting:
    """derived_quantities and validity_warnings of the coupling-weighted KKI models (κ, ultrasound, c(T, t))."""

    #: the branch whose C_eff is reported
    reporting_branch = "l"

    def derived_quantities(self, values: dict, x: dict) -> dict[str, tuple[float, str, str]]:
        """C_eff and μ at E = 3 k T_ref and the double-well fraction (:func:`kki_coupling_quantities`)."""
        return kki_coupling_quantities(values, x, self.reporting_branch)

    def validity_warnings(self, values: dict, x: dict) -> list[str]:
        """kT > w/25 at some points (:func:`kki_validity_warnings`)."""
        return kki_validity_warnings(values, x)


class ConductivityModel(GlassModel):
    """Thermal-conductivity models κ(T) [W m⁻¹ K⁻¹] (physics.md §6): the subclass's tunnelling-state
    scattering ``tls_inverse_mfp(polarisation, ω, T, params)`` plus a plateau mechanism and boundary
    scattering, combined per branch by Matthiessen's rule.

    Parameters
    ----------
    plateau : {"rayleigh", "spm", "none"}
        Rayleigh A_R ω⁴ (model-free) or the SPM's soft-vibration scattering with energy W.
    boundary : bool
        Add l⁻¹ = 1/L.
    """

    output = "W/(m K)"

    def __init__(self, plateau: str = "rayleigh", boundary: bool = False, **kwargs):
        if plateau not in ("rayleigh", "spm", "none"):
            raise ValueError(f"plateau must be 'rayleigh', 'spm' or 'none', got {plateau!r}")
        self.plateau, self.boundary = plateau, bool(boundary)
        table = [*self.physics_table, _V_L, _V_T]
        table += {"rayleigh": [_RAYLEIGH], "spm": [_W_SPM], "none": []}[plateau]
        if self.boundary:
            table.append(_BOUNDARY)
        super().__init__(table, **kwargs)

    def _evaluate(self, T, **params):
        velocity = {"l": params["v_l"], "t": params["v_t"]}

        def inverse_mfp(pol, omega, temps):
            total = self.tls_inverse_mfp(pol, omega, temps, params)
            if self.plateau == "rayleigh":
                total = total + scattering.rayleigh_inverse_mfp(omega, 10.0 ** params["log10_A_R"])
            elif self.plateau == "spm":
                total = total + scattering.spm_vibration_inverse_mfp(omega, self.strength(pol, params),
                                                                     velocity[pol], params["W"] * constants.k_B)
            if self.boundary:
                total = total + 1.0 / params["L"]
            return total

        return thermal_conductivity(np.asarray(T, float), inverse_mfp, params["v_l"], params["v_t"])


class STMConductivityModel(ConductivityModel):
    """Standard tunnelling model κ(T): resonant scattering (π ω C/v) tanh(ħω/2kT) per branch (physics.md §5.2, §6).

    κ from the tunnelling states alone is Σ_α k³T²/(6πħ² C v_α): it fixes C·v_eff, not C and the
    velocities separately — leave the velocities fixed at cited values or constrain them by priors.
    """

    name_id = "stm_conductivity"
    physics_table = (_C_TLS,)
    # closed form k³T²/(6πħ²C) Σ 1/v_α (physics.md §6); the smallest Rayleigh term changes it by < 1e-8
    reference = ({"C": 3.0, "v_l": 5800.0, "v_t": 3750.0, "log10_A_R": -50.0}, 1.0, 0.02953413574194858)

    def strength(self, pol, params):
        return params["C"] * 1e-4

    def derived_quantities(self, values: dict, x: dict) -> dict[str, tuple[float, str, str]]:
        """κ_TLS/T² = k³/(6πħ²) Σ_α m_α/(C v_α) (m_l = 1, m_t = 2; physics.md §6, §9 item 15) and C·v_l."""
        c = self.strength("l", values)
        velocity = {"l": values["v_l"], "t": values["v_t"]}
        kappa_t2 = constants.k_B**3 / (6.0 * np.pi * constants.hbar**2) * sum(
            m / (c * velocity[pol]) for pol, m in POLARISATIONS.items())
        return {"kappa_T2": (kappa_t2, "W m^-1 K^-3", "TLS-limited κ/T² = k³/(6πħ²) Σ_α m_α/(C v_α)"),
                "C_v_l": (c * values["v_l"], "m s^-1", "tunnelling strength times longitudinal velocity, C·v_l")}

    def tls_inverse_mfp(self, pol, omega, T, params):
        v = params["v_l"] if pol == "l" else params["v_t"]
        return scattering.resonant_inverse_mfp(omega, T, self.strength(pol, params), v)


class KKIConductivityModel(_KKICoupledReporting, ConductivityModel):
    """KKI κ(T): resonant scattering by both TLS types with exact |x_ge|² and couplings χ_j (physics.md §5.2, §6).

    Shares η_c, ξ_c, log10_N, w, η_L, ξ_L (and ρ, v_l, v_t) with :class:`KKIHeatCapacityModel` for joint fits.
    With ``plateau="spm"`` the soft-vibration term uses the tunnelling strength of the TLS at kT = 0.1 w.
    :meth:`derived_quantities` reports the longitudinal C_eff and its log-slope μ at E = 3 k T_ref, the
    combinations κ ∝ T²/(C v) fixes.
    """

    name_id = "kki_conductivity"
    physics_table = (*_KKI_ROWS, *_CHI_ROWS, _RHO)

    def _set_derived_hints(self):
        self.set_param_hint("N", expr="10**log10_N")


    def tls_inverse_mfp(self, pol, omega, T, params):
        v = params["v_l"] if pol == "l" else params["v_t"]
        return scattering.kki_resonant_inverse_mfp(omega, T, _kki_coupling(pol, params), params["rho"], v)

    def deformation_potentials(self, params, T):
        """(D_1, D_2) [eV] of the longitudinal coupling at u = kT: D_j = χ_j sqrt⟨δy_eff²⟩ (KKI eq. 5.6)."""
        values = params.valuesdict() if hasattr(params, "valuesdict") else dict(params)
        scales, dist = kki_material(values)
        sep = mean_separation(constants.k_B * np.asarray(T, float), scales, dist)
        return values["chi_1"] * sep[0], values["chi_2"] * sep[1]

    def strength(self, pol, params):
        """C_α^KKI = Σ_j χ_j² X_j(E)/(ρ v_α²) at E = 0.1 w (physics.md §5.2)."""
        v = params["v_l"] if pol == "l" else params["v_t"]
        energy = 0.1 * params["w"] * constants.k_B
        return float(_kki_coupling(pol, params)(np.array([energy]))[0]) / (params["rho"] * v**2)


_P0_ROW = ParameterSpec("P0", "1e45 J^-1 m^-3", 1.0, (1e-4, 1e4), r"\bar P",
                        "TLS density of states P̄ (STM convention, physics.md §0)", log_scale=True)
_GAMMA_ROWS = (
    ParameterSpec("gamma_l", "eV", 1.0, (0.01, 10.0), r"\gamma_l",
                  "longitudinal deformation potential (physics.md §0)"),
    ParameterSpec("gamma_t", "eV", 0.65, (0.01, 10.0), r"\gamma_t", "transverse deformation potential (physics.md §0)"),
)
ACOUSTIC_OUTPUTS = ("Q^-1", "1/m", "dB/m")


class STMAcousticModel(GlassModel):
    """Shared set-up of the STM ultrasonic models of ``f`` [Hz] and ``T`` [K] for one measured branch.

    C_α = P̄ γ_α²/(ρ v_α²) of the measured branch and K_τ of all branches (physics.md §5.2–5.4) come
    from P̄, γ_l, γ_t, ρ, v_l, v_t, shared with the other STM models.
    """

    independent = ("f", "T")
    physics_table = (_P0_ROW, *_GAMMA_ROWS, _RHO, _V_L, _V_T)

    def __init__(self, branch: str = "l", **kwargs):
        if branch not in ("l", "t"):
            raise ValueError(f"branch must be 'l' or 't', got {branch!r}")
        self.branch = branch
        super().__init__(list(self.physics_table), **kwargs)

    def _strength(self, params):
        gamma = params["gamma_" + self.branch] * constants.eV
        v = params["v_" + self.branch]
        c = params["P0"] * 1e45 * gamma**2 / (params["rho"] * v**2)
        k_tau = scattering.relaxation_constant(params["gamma_l"] * constants.eV, params["gamma_t"] * constants.eV,
                                               params["rho"], params["v_l"], params["v_t"])
        return c, k_tau, v

    def derived_quantities(self, values: dict, x: dict) -> dict[str, tuple[float, str, str]]:
        """C_α = P̄ γ_α²/(ρ v_α²) of the measured branch α (physics.md §0, §5.2)."""
        b = self.branch
        return {f"C_{b}": (self._strength(values)[0], "1",
                           f"tunnelling strength P̄γ_{b}²/(ρv_{b}²) of the measured branch")}


class STMAttenuationModel(STMAcousticModel):
    """STM ultrasonic attenuation: resonant + one-phonon relaxation absorption (physics.md §5.2, §5.4).

    ``output`` "Q^-1" (internal friction), "1/m" (energy attenuation l⁻¹) or "dB/m" (4.343 l⁻¹).
    """

    name_id = "stm_attenuation"

    def __init__(self, branch: str = "l", output: str = "Q^-1", **kwargs):
        if output not in ACOUSTIC_OUTPUTS:
            raise ValueError(f"output must be one of {ACOUSTIC_OUTPUTS}, got {output!r}")
        self.output = output
        super().__init__(branch, **kwargs)

    def _evaluate(self, f, T, **params):
        omega = 2.0 * np.pi * np.asarray(f, float)
        c, k_tau, v = self._strength(params)
        inv = (scattering.resonant_inverse_mfp(omega, T, c, v)
               + scattering.relaxation_inverse_mfp(omega, T, c, v, k_tau))
        if self.output == "Q^-1":
            return scattering.internal_friction(inv, omega, v)
        return inv * (10.0 / np.log(10.0) if self.output == "dB/m" else 1.0)


class STMVelocityModel(STMAcousticModel):
    """STM relative sound-velocity change δv/v: resonant (digamma) + relaxation, plus an offset (physics.md §5.4)."""

    name_id = "stm_velocity"
    physics_table = (*STMAcousticModel.physics_table,
                     ParameterSpec("dv0", "1", 0.0, (-1.0, 1.0), r"(\delta v/v)_0", "T-independent reference offset"))

    def _evaluate(self, f, T, **params):
        omega = 2.0 * np.pi * np.asarray(f, float)
        c, k_tau, _ = self._strength(params)
        return (scattering.resonant_velocity_shift(omega, T, c)
                + scattering.relaxation_velocity_shift(omega, T, c, k_tau) + params["dv0"])


def kki_chi(params):
    """{"l": (χ_1, χ_2), "t": ratio·(χ_1, χ_2)} in J per unit y, from KKI parameter values (χ in eV)."""
    chi_l = (params["chi_1"] * constants.eV, params["chi_2"] * constants.eV)
    return {"l": chi_l, "t": tuple(params["chi_t_ratio"] * c for c in chi_l)}


class KKIAcousticModel(_KKICoupledReporting, GlassModel):
    """Shared set-up of the KKI ultrasonic models of ``f`` [Hz] and ``T`` [K] for one measured branch.

    Every parameter name is shared with :class:`KKIConductivityModel` (and the KKI rows with
    :class:`KKIHeatCapacityModel`), so joint fits tie them.  :meth:`derived_quantities` reports C_eff of the
    measured branch at E = 3 k T_ref.
    """

    independent = ("f", "T")
    physics_table = (*_KKI_ROWS, *_CHI_ROWS, _RHO, _V_L, _V_T)

    def __init__(self, branch: str = "l", **kwargs):
        if branch not in ("l", "t"):
            raise ValueError(f"branch must be 'l' or 't', got {branch!r}")
        self.branch = self.reporting_branch = branch
        super().__init__(list(self.physics_table), **kwargs)

    def _set_derived_hints(self):
        self.set_param_hint("N", expr="10**log10_N")


class KKIAttenuationModel(KKIAcousticModel):
    """KKI ultrasonic attenuation of one branch: resonant absorption plus one-phonon relaxation, TLS by
    TLS with exact |x_ge|², (x_ee − x_gg)² and couplings χ_j (physics.md §5.2, §5.4).

    ``output`` "Q^-1", "1/m" or "dB/m"; ``relaxation=False`` keeps the resonant part alone.
    """

    name_id = "kki_attenuation"

    def __init__(self, branch: str = "l", output: str = "Q^-1", relaxation: bool = True, **kwargs):
        if output not in ACOUSTIC_OUTPUTS:
            raise ValueError(f"output must be one of {ACOUSTIC_OUTPUTS}, got {output!r}")
        self.output, self.relaxation = output, bool(relaxation)
        super().__init__(branch, **kwargs)

    def _evaluate(self, f, T, **params):
        omega = 2.0 * np.pi * np.asarray(f, float)
        v = params["v_" + self.branch]
        inv = scattering.kki_resonant_inverse_mfp(omega, T, _kki_coupling(self.branch, params), params["rho"], v)
        if self.relaxation:
            scales, dist = kki_material(params)
            q_rel = scattering.kki_relaxation(omega, T, scales, dist, kki_chi(params), params["rho"], params["v_l"],
                                              params["v_t"], self.branch, velocity=False)[0]
            inv = inv + q_rel * omega / v
        if self.output == "Q^-1":
            return scattering.internal_friction(inv, omega, v)
        return inv * (10.0 / np.log(10.0) if self.output == "dB/m" else 1.0)


class KKIVelocityModel(KKIAcousticModel):
    """KKI relative sound-velocity change of one branch: the resonant principal-value integral with the
    exact energy-dependent coupling plus TLS-by-TLS relaxation, plus an offset (physics.md §5.4)."""

    name_id = "kki_velocity"
    physics_table = (*KKIAcousticModel.physics_table,
                     ParameterSpec("dv0", "1", 0.0, (-1.0, 1.0), r"(\delta v/v)_0", "T-independent reference offset"))

    def _evaluate(self, f, T, **params):
        omega = 2.0 * np.pi * np.asarray(f, float)
        v = params["v_" + self.branch]
        scales, dist = kki_material(params)
        resonant = scattering.kki_resonant_velocity_shift(omega, T, _kki_coupling(self.branch, params), params["rho"],
                                                          v, e_max=0.8 * scales.w)
        relax = scattering.kki_relaxation(omega, T, scales, dist, kki_chi(params), params["rho"], params["v_l"],
                                          params["v_t"], self.branch)[1]
        return resonant + relax + params["dv0"]


class BlackTimeHeatModel(HeatCapacityModel):
    """STM time-dependent specific heat c(T, t): Black's law with the exact arcsech n(E, t) (physics.md §7.1).

    Independent variables T [K] and the measurement time t [s]; ``window`` "step" or "exponential".
    Shares P0, γ_l, γ_t, ρ and the velocities with the other STM models.
    """

    name_id = "black_time_heat"
    independent = ("T", "t")
    physics_table = (_P0_ROW, *_GAMMA_ROWS, _RHO, _V_L, _V_T)

    def __init__(self, window: str = "step", **kwargs):
        if window not in timeheat.WINDOWS:
            raise ValueError(f"window must be one of {timeheat.WINDOWS}, got {window!r}")
        self.window = window
        super().__init__(**kwargs)

    def volumetric(self, T, t, P0, **params):
        return _black_volumetric(T, t, P0, params, self.window)


class KKITimeHeatModel(_KKICoupledReporting, HeatCapacityModel):
    """KKI time-dependent specific heat c(T, t), TLS by TLS with exact splittings and rates (physics.md §7.2).

    Shares every KKI name (η_c, ξ_c, log10_N, w, η_L, ξ_L, χ_1, χ_2, χ_t/χ_l, ρ, v_l, v_t).
    """

    name_id = "kki_time_heat"
    independent = ("T", "t")
    physics_table = (*_KKI_ROWS, *_CHI_ROWS, _RHO, _V_L, _V_T)

    def __init__(self, window: str = "exponential", **kwargs):
        if window not in timeheat.WINDOWS:
            raise ValueError(f"window must be one of {timeheat.WINDOWS}, got {window!r}")
        self.window = window
        super().__init__(**kwargs)

    def _set_derived_hints(self):
        self.set_param_hint("N", expr="10**log10_N")

    def volumetric(self, T, t, **params):
        return _kki_time_volumetric(T, t, params, self.window)


#: Every registered model class by its id.
REGISTRY: dict[str, type[GlassModel]] = {cls.name_id: cls for cls in (
    STMHeatCapacityModel, KKIHeatCapacityModel, STMConductivityModel, KKIConductivityModel, STMAttenuationModel,
    STMVelocityModel, KKIAttenuationModel, KKIVelocityModel, BlackTimeHeatModel, KKITimeHeatModel)}

def describe(name: str) -> str:
    """The parameter table of registered model ``name`` as text (name, unit, default, bounds, free, meaning)."""
    if name not in REGISTRY:
        raise ValueError(f"unknown model {name!r}; the models are {sorted(REGISTRY)}")
    cls = REGISTRY[name]
    model = cls()
    lines = [f"{name}: {(cls.__doc__ or '').strip().splitlines()[0]}",
             f"independent variables: {', '.join(model.independent)}; output: {getattr(model, 'output', '')}", "",
             f"{'parameter':13}{'unit':18}{'default':>11}{'bounds':>22}  {'free':5} description"]
    for spec in model.parameter_table:
        bounds = f"[{spec.bounds[0]:.3g}, {spec.bounds[1]:.3g}]"
        lines.append(f"{spec.name:13}{spec.unit:18}{spec.default:11.4g}{bounds:>22}  {'yes' if spec.vary else 'no':5} "
                     f"{spec.description}")
    return "\n".join(lines)


__all__ = [
    "ACOUSTIC_OUTPUTS",
    "DEEP_BARRIER_LIMIT",
    "HEAT_UNITS",
    "LOG_SLOPE_STEP",
    "REGISTRY",
    "TWO_LEVEL_LIMIT",
    "BlackTimeHeatModel",
    "ConductivityModel",
    "GlassModel",
    "HeatCapacityModel",
    "KKIAttenuationModel",
    "KKIConductivityModel",
    "KKIHeatCapacityModel",
    "KKITimeHeatModel",
    "KKIVelocityModel",
    "ParameterSpec",
    "STMAttenuationModel",
    "STMConductivityModel",
    "STMHeatCapacityModel",
    "STMVelocityModel",
    "describe",
    "kki_chi",
    "kki_coupling_quantities",
    "kki_material",
    "kki_validity_warnings",
    "log_slope",
    "reference_temperature",
]
