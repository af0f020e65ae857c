"""lmfit Models of glassfit's observables, each declared once from an executable parameter table.

A model is a :class:`lmfit.Model` of its independent variables (T [K]; f [Hz] for ultrasound; t [s] for c(T, t))
whose parameters are the rows of a table of :class:`ParameterSpec` (name, unit, default, bounds, LaTeX label,
description).  A row's unit converts it to SI, so every model is one SI kernel behind the same generic
:class:`GlassModel` (:mod:`glassfit.models.base`).  The same table is the model's ``card``
(:class:`glassfit.contract.ModelCard`, with the derived rows such as N = 10**log10_N) and feeds lmfit's hints,
the default priors, corner-plot labels and the command-line help (:func:`describe`).  Every model has a
``reference`` case, ``guess()`` from data and a ``random()`` parameter draw, and is registered in
:data:`REGISTRY` so that generic tests and the CLI can loop over all of them.

One module per observable, with its maths entry points, tables and documentation together:

* :mod:`~glassfit.models.rows` — the shared rows (ρ, M, v_l, v_t, c₃, the KKI rows, χ, γ, P̄, C, A_R, W, L, δv₀);
* :mod:`~glassfit.models.kki` and :mod:`~glassfit.models.stm` — what the models of one theory share;
* :mod:`~glassfit.models.heat` — c(T) (physics.md §4); :mod:`~glassfit.models.time_heat` — c(T, t) (§7);
  :mod:`~glassfit.models.heat_release` — the heat release Q̇(t) after a quench (§7.3);
* :mod:`~glassfit.models.conductivity` — κ(T) (§6); :mod:`~glassfit.models.acoustic` — Q⁻¹ and δv/v (§5);
* :mod:`~glassfit.models.resonator` — a superconducting resonator's 1/Q_i(T, n) and δf/f(T) (docs/physics.md §11).
"""

from __future__ import annotations

from glassfit.contract import ParameterSpec
from glassfit.models.acoustic import (
    ACOUSTIC_OUTPUTS,
    KKIAcousticModel,
    KKIAttenuationModel,
    KKIVelocityModel,
    STMAcousticModel,
    STMAttenuationModel,
    STMVelocityModel,
)
from glassfit.models.base import GlassModel, Reference
from glassfit.models.conductivity import ConductivityModel, KKIConductivityModel, STMConductivityModel
from glassfit.models.heat import HEAT_UNITS, HeatCapacityModel, KKIHeatCapacityModel, STMHeatCapacityModel
from glassfit.models.heat_release import (
    RELEASE_UNITS,
    BlackHeatReleaseModel,
    HeatReleaseModel,
    KKIHeatReleaseModel,
)
from glassfit.models.kki import (
    DEEP_BARRIER_LIMIT,
    LOG_SLOPE_STEP,
    TWO_LEVEL_LIMIT,
    WARNING_GRID,
    kki_chi,
    kki_coupling_quantities,
    kki_material,
    kki_validity_warnings,
    log_slope,
    reference_temperature,
)
from glassfit.models.resonator import (
    KKIResonatorLossModel,
    KKIResonatorShiftModel,
    STMResonatorLossModel,
    STMResonatorShiftModel,
)
from glassfit.models.time_heat import BlackTimeHeatModel, KKITimeHeatModel

#: Every registered model class by its id.
REGISTRY: dict[str, type[GlassModel]] = {cls.name_id: cls for cls in (
    STMHeatCapacityModel, KKIHeatCapacityModel, STMConductivityModel, KKIConductivityModel, STMAttenuationModel,
    STMVelocityModel, KKIAttenuationModel, KKIVelocityModel, BlackTimeHeatModel, KKITimeHeatModel,
    STMResonatorLossModel, STMResonatorShiftModel, KKIResonatorLossModel, KKIResonatorShiftModel,
    BlackHeatReleaseModel, KKIHeatReleaseModel)}


def describe(name: str) -> str:
    """The parameter table of registered model ``name`` as text (name, unit, default, bounds, free, meaning), the
    derived rows with their expressions."""
    if name not in REGISTRY:
        raise ValueError(f"unknown model {name!r}; the models are {sorted(REGISTRY)}")
    cls = REGISTRY[name]
    model = cls()
    lines = [f"{name}: {(cls.__doc__ or '').strip().splitlines()[0]}",
             f"independent variables: {', '.join(model.independent)}; output: {model.output}", "",
             f"{'parameter':13}{'unit':18}{'default':>11}{'bounds':>22}  {'free':5} description"]
    for spec in model.card.rows.values():
        if spec.expr is None:
            value = f"{spec.default:11.4g}{f'[{spec.bounds[0]:.3g}, {spec.bounds[1]:.3g}]':>22}"
        else:
            value = f"{'= ' + spec.expr:>33}"
        lines.append(f"{spec.name:13}{spec.unit:18}{value}  {'yes' if spec.vary else 'no':5} {spec.description}")
    return "\n".join(lines)


__all__ = [
    "ACOUSTIC_OUTPUTS",
    "DEEP_BARRIER_LIMIT",
    "HEAT_UNITS",
    "LOG_SLOPE_STEP",
    "REGISTRY",
    "RELEASE_UNITS",
    "TWO_LEVEL_LIMIT",
    "WARNING_GRID",
    "BlackHeatReleaseModel",
    "BlackTimeHeatModel",
    "ConductivityModel",
    "GlassModel",
    "HeatCapacityModel",
    "HeatReleaseModel",
    "KKIAcousticModel",
    "KKIAttenuationModel",
    "KKIConductivityModel",
    "KKIHeatCapacityModel",
    "KKIHeatReleaseModel",
    "KKIResonatorLossModel",
    "KKIResonatorShiftModel",
    "KKITimeHeatModel",
    "KKIVelocityModel",
    "ParameterSpec",
    "Reference",
    "STMAcousticModel",
    "STMAttenuationModel",
    "STMConductivityModel",
    "STMHeatCapacityModel",
    "STMResonatorLossModel",
    "STMResonatorShiftModel",
    "STMVelocityModel",
    "describe",
    "kki_chi",
    "kki_coupling_quantities",
    "kki_material",
    "kki_validity_warnings",
    "log_slope",
    "reference_temperature",
]
