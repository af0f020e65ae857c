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

import inspect
from dataclasses import dataclass

import lmfit
import numpy as np

from glassfit import constants, stm
from glassfit.distributions import KKIDistribution
from glassfit.observables.heat import debye_heat_capacity, kki_tls_heat_capacity, multilevel_heat_capacity
from glassfit.potential import PotentialScales


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
    """The model function handed to lmfit: ``f(T, <one argument per table row>)``.

    lmfit reads parameter names from the signature, so it is built from the table; a class rather
    than a closure keeps models picklable (process pools).
    """

    def __init__(self, model, names):
        self.model = model
        self.__name__ = model.name_id
        kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
        self.__signature__ = inspect.Signature([inspect.Parameter(n, kind) for n in ["T", *names]])

    def __call__(self, T, **params):
        return self.model._evaluate(T, **params)


class GlassModel(lmfit.Model):
    """Base class: builds an lmfit.Model of ``T`` from the class's parameter table.

    Subclasses set ``name_id`` and ``physics_table`` and define ``volumetric(T, **params)``, their own
    contribution [J m⁻³ K⁻¹]; this class adds the phonons and converts the unit.

    Parameters
    ----------
    output : {"J/(g K)", "J/(mol K)", "J/(m3 K)"}
        Unit of the returned heat capacity.
    phonons : {"debye", "free"}
        Phonon term from the sound velocities v_l, v_t (fixed by default) or a free c₃ T³.
    """

    name_id: str = ""
    #: parameters of the model proper (the physics), before the phonon and unit parameters
    physics_table: tuple[ParameterSpec, ...] = ()
    #: reference parameter values and the function value they give, for the generic tests
    reference: tuple[dict, float, float] | None = None

    def __init__(self, output: str = "J/(g K)", phonons: str = "debye", **kwargs):
        if output not in HEAT_UNITS:
            raise ValueError(f"output must be one of {HEAT_UNITS}, got {output!r}")
        if phonons not in ("debye", "free"):
            raise ValueError(f"phonons must be 'debye' or 'free', got {phonons!r}")
        self.output, self.phonons = output, phonons
        table = list(self.physics_table) + ([_V_L, _V_T] if phonons == "debye" else [_C3])
        if output != "J/(m3 K)":
            table.append(_RHO)
        if output == "J/(mol K)":
            table.append(_MOLAR)
        self.parameter_table = tuple(table)
        names = [spec.name for spec in table]
        super().__init__(_TableFunction(self, names), independent_vars=["T"], param_names=names,
                         name=self.name_id, **kwargs)
        for spec in table:
            self.set_param_hint(spec.name, value=spec.default, min=spec.bounds[0], max=spec.bounds[1],
                                vary=spec.vary)
        self._set_derived_hints()

    def _set_derived_hints(self):
        """Derived (expression) parameters, reported with the fit; none by default."""

    def spec(self, name: str) -> ParameterSpec:
        """The table row of parameter ``name``."""
        for spec in self.parameter_table:
            if spec.name == name:
                return spec
        raise KeyError(f"{self.name_id} has no parameter {name!r}; it has {[s.name for s in self.parameter_table]}")

    # -- evaluation -------------------------------------------------------------------
    def _evaluate(self, T, **params):
        T = np.asarray(T, dtype=float)
        c = self.volumetric(T, **params)
        if self.phonons == "debye":
            c = c + debye_heat_capacity(T, params["v_l"], params["v_t"])
        else:
            c = c + params["c3"] * T**3
        if self.output == "J/(g K)":
            return constants.volumetric_to_specific(c, params["rho"])
        if self.output == "J/(mol K)":
            return constants.volumetric_to_molar(c, params["rho"], params["molar_mass"])
        return c

    # -- parameter helpers ---------------------------------------------------------------
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


class STMHeatCapacityModel(GlassModel):
    """Standard tunnelling model: c = (π²/6) P̄ k² T + phonons (physics.md §4.1)."""

    name_id = "stm_heat_capacity"
    physics_table = (
        ParameterSpec("P0", "1e45 J^-1 m^-3", 1.0, (1e-4, 1e4), r"\bar P",
                      "TLS density of states P̄ (STM convention, physics.md §0)", log_scale=True),
    )
    reference = ({"P0": 1.0, "v_l": 5800.0, "v_t": 3750.0, "rho": 2200.0}, 1.0,
                 (np.pi**2 / 6 * 1e45 * constants.k_B**2 * 1.0 + 1.7552066792904715) / 2.2e6)

    def volumetric(self, T, P0, **_):
        return stm.heat_capacity(T, P0 * 1e45)

    def guess(self, data, T=None, **kwargs) -> lmfit.Parameters:
        """P̄ and c₃ (if free) from a straight-line fit of c/T against T²."""
        T = np.asarray(T if T is not None else kwargs.pop("x"), dtype=float)
        params = self.make_params()
        c_vol = self._to_volumetric(np.asarray(data, float), params)
        slope, intercept = np.polyfit(T**2, c_vol / T, 1)
        params["P0"].set(value=float(np.clip(intercept / (np.pi**2 / 6 * constants.k_B**2) / 1e45,
                                             *self.spec("P0").bounds)))
        if self.phonons == "free":
            params["c3"].set(value=float(np.clip(slope, *_C3.bounds)))
        return lmfit.models.update_param_vals(params, self.prefix, **kwargs)

    def _to_volumetric(self, c, params):
        if self.output == "J/(g K)":
            return constants.specific_to_volumetric(c, params["rho"].value)
        if self.output == "J/(mol K)":
            return c * params["rho"].value / params["molar_mass"].value
        return c


class KKIHeatCapacityModel(GlassModel):
    """KKI soft-potential TLS of both types with f = N h(η) g(ξ), plus phonons (physics.md §3–4).

    The potential enters through its scales w, η_L, ξ_L (physics.md §1.1), fixed by default at the
    worked magnitudes of physics.md §1.4 (ε = 1 K, A = B = C = 1 eV).

    What c(T) alone constrains.  The singular values of ∂ln c/∂ln(η_c, ξ_c, N, w, η_L, ξ_L) over
    0.05–0.5 K (30 temperatures; η_c = 0.8, ξ_c = 1.2) are 18.5, 0.98, 0.042, 0.002, 0, 0: two
    directions are exact degeneracies (g enters only through ξ_c/ξ_L; and N trades against the
    scales), and with 2 % data only the leading combination — the amplitude of n(u), essentially
    N η_L ξ_L h g / w — is pinned (≈ 0.1 %); the second, the weak logarithmic slope d ln c/d ln T − 1
    (0.23–0.30 here), to ≈ 2 %; the rest is not constrained.  Fix η_L, ξ_L, w (or tie them to other
    observables in a joint fit) and fit N, or N and η_c.
    """

    name_id = "kki_heat_capacity"
    #: two-level systems only (fast, kT ≲ w/40) or the multilevel sum over every local potential
    multilevel: bool = False
    physics_table = (
        ParameterSpec("eta_c", "1", 0.5, (0.05, 5.0), r"\eta_c", "decay scale of h(η) (KKI eq. 4.12)"),
        ParameterSpec("xi_c", "1", 0.5, (0.02, 5.0), r"\xi_c", "width of g(ξ) (KKI eq. 4.12)"),
        ParameterSpec("log10_N", "log10(m^-3)", 27.0, (20.0, 30.0), r"\log_{10} N",
                      "concentration of soft potentials N (KKI §4)"),
        ParameterSpec("w", "K", 22.6, (1.0, 200.0), r"w", "energy scale w = C^(1/3) ε^(2/3) (KKI eq. 3.6)",
                      vary=False),
        ParameterSpec("eta_L", "1", 0.0442, (1e-3, 1.0), r"\eta_L", "scale of η (KKI eq. 3.7)", vary=False),
        ParameterSpec("xi_L", "1", 0.2102, (1e-3, 3.0), r"\xi_L", "scale of ξ (physics.md §1.1)", vary=False),
    )

    def __init__(self, output: str = "J/(g K)", phonons: str = "debye", multilevel: bool = False, **kwargs):
        """``multilevel=True`` sums every local potential's six lowest levels (physics.md §4.1; valid to
        kT ≈ w, ≈ 50 ms a temperature) instead of the two-level systems alone (≈ 1 ms for 100 T)."""
        self.multilevel = bool(multilevel)
        super().__init__(output=output, phonons=phonons, **kwargs)

    def _set_derived_hints(self):
        self.set_param_hint("N", expr="10**log10_N")

    def volumetric(self, T, eta_c, xi_c, log10_N, w, eta_L, xi_L, **_):
        scales = PotentialScales(w=w * constants.k_B, eta_L=eta_L, xi_L=xi_L)
        heat = multilevel_heat_capacity if self.multilevel else kki_tls_heat_capacity
        return heat(T, scales, KKIDistribution(eta_c, xi_c, 10.0**log10_N))

    def guess(self, data, T=None, **kwargs) -> lmfit.Parameters:
        """Defaults for the shapes; log10 N scaled so that the model matches the data at the median T."""
        T = np.asarray(T if T is not None else kwargs.pop("x"), dtype=float)
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


#: Every registered model class by its id.
REGISTRY: dict[str, type[GlassModel]] = {cls.name_id: cls for cls in (STMHeatCapacityModel, KKIHeatCapacityModel)}

__all__ = ["HEAT_UNITS", "REGISTRY", "GlassModel", "KKIHeatCapacityModel", "ParameterSpec", "STMHeatCapacityModel"]
