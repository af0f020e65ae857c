"""The written contract between the models and the inference layer (docs/architecture.md).

What the objective, the priors, the results, the plots and the data checks may ask of a model is its
:class:`ModelCard`: name, independent variables, output unit and one :class:`ParameterSpec` row per
parameter (derived ones included).  :func:`card_of` gives it for any lmfit.Model: a glassfit model carries
its own (built from its parameter table), a plain lmfit.Model gets one from its parameter hints.  What the
sampler, the optimiser and the reports may ask of an objective is :class:`Posterior`.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

from glassfit.constants import DIMENSIONLESS, Unit


@dataclass(frozen=True)
class ParameterSpec:
    """One row of a model's parameter table.

    ``unit``: a :class:`glassfit.constants.Unit` (text plus conversion to SI) or plain text; ``si``: the name
    of the SI argument of the model's kernel this row becomes (default: the row's name; "N" for log10_N);
    ``expr``: set for a derived row (an lmfit expression of the other rows, e.g. N = 10**log10_N);
    ``log_scale``: draw and propose on a log scale (positive quantities spanning decades).
    """

    name: str
    unit: str
    default: float
    bounds: tuple[float, float]
    latex: str
    description: str
    vary: bool = True
    log_scale: bool = False
    si: str = ""
    expr: str | None = None

    def __post_init__(self):
        lo, hi = self.bounds
        if not lo <= self.default <= hi:
            raise ValueError(f"default of {self.name} outside its bounds")
        if not self.si:
            object.__setattr__(self, "si", self.name)

    def to_si(self, value):
        """``value`` in this row's unit -> SI (unchanged when the unit has no conversion)."""
        return self.unit.to_si(value) if isinstance(self.unit, Unit) else value

    def fixed(self) -> ParameterSpec:
        """This row held fixed (a row an observable needs but its data barely constrain)."""
        return dataclasses.replace(self, vary=False)


def derived_row(name: str, unit: str, latex: str, expr: str, description: str) -> ParameterSpec:
    """A derived (expression) row, e.g. ``derived_row("N", "m^-3", "N", "10**log10_N", ...)``."""
    return ParameterSpec(name, unit, 0.0, (0.0, 0.0), latex, description, vary=False, expr=expr)


@dataclass(frozen=True)
class ModelCard:
    """What the inference layer knows of a model.

    ``rows``: name → row, the parameter table followed by the derived rows; ``output``: unit of the model's
    values ("1" when dimensionless or unknown).
    """

    name: str
    independent: tuple[str, ...]
    output: str
    rows: dict[str, ParameterSpec] = field(default_factory=dict)

    def row(self, name: str) -> ParameterSpec | None:
        """The row of parameter ``name``, None if the card has none."""
        return self.rows.get(name)

    def unit(self, name: str) -> str:
        """Unit text of ``name`` ("" if unknown)."""
        row = self.rows.get(name)
        return "" if row is None else str(row.unit)

    def latex(self, name: str) -> str | None:
        """LaTeX symbol of ``name`` (None if unknown)."""
        row = self.rows.get(name)
        return None if row is None else row.latex

    def in_logarithms(self, names) -> ModelCard:
        """This card with a row ``ln_NAME`` (unit "ln(unit)", symbol ln …) for each of ``names``, the
        reparametrisation NAME = exp(ln_NAME) of positive scales; NAME becomes derived."""
        rows = dict(self.rows)
        for name in names:
            row = rows.get(name)
            if row is None or row.bounds[0] <= 0 or row.default <= 0:
                raise ValueError(f"{name} is not a positive parameter of {self.name}; it cannot be sampled as "
                                 f"ln {name}")
            lo, hi = row.bounds
            rows[f"ln_{name}"] = ParameterSpec(f"ln_{name}", f"ln({row.unit})", math.log(row.default),
                                               (math.log(lo), math.log(hi)), rf"\ln {row.latex}",
                                               f"natural logarithm of {name}", vary=row.vary)
            rows[name] = dataclasses.replace(row, vary=False, expr=f"exp(ln_{name})")
        return dataclasses.replace(self, rows=rows)


@runtime_checkable
class Carded(Protocol):
    """A model that declares itself: glassfit's models (lmfit.Model subclasses with a ``card``)."""

    card: ModelCard


@runtime_checkable
class ReportingModel(Protocol):
    """What a model offers the reports (glassfit's models do; any other lmfit model
    simply reports nothing)."""

    def derived_quantities(self, values: dict, x: dict) -> dict:
        """name → (value, unit, description) of the combinations the data constrain, at ``values`` and ``x``."""

    def validity_warnings(self, values: dict, x: dict) -> list:
        """One line per way ``values`` at ``x`` leave the model's domain of validity."""


def card_of(model) -> ModelCard:
    """The card of ``model``: its own for a glassfit model; for a plain lmfit.Model, one from its hints
    (independent variables, parameter names and bounds; no units, output "1")."""
    if isinstance(model, Carded):
        return model.card
    rows = {}
    for name in model.param_names:
        hint = model.param_hints.get(name[len(model.prefix):], {})
        lo, hi = hint.get("min", -np.inf), hint.get("max", np.inf)
        value = hint.get("value", 0.0 if lo == -np.inf else lo)
        rows[name] = ParameterSpec(name, "", value, (lo, hi), name, name)
    return ModelCard(model.name, tuple(model.independent_vars), str(DIMENSIONLESS), rows)


@runtime_checkable
class Posterior(Protocol):
    """What the optimiser, the sampler and the summaries may ask of an objective (one dataset or joint).

    ``names``: the free parameters in θ order; ``priors``: name → :class:`glassfit.priors.Prior`;
    ``parts``: the single-dataset objectives (itself for one dataset); ``datasets``: their data.
    """

    names: list[str]
    priors: dict

    @property
    def ndim(self) -> int: ...

    @property
    def parts(self) -> list: ...

    def theta(self, values=None) -> np.ndarray: ...

    def named(self, theta) -> dict: ...

    def logp(self, theta) -> float: ...

    def logl(self, theta) -> float: ...

    def safe_logl(self, theta) -> float: ...

    def logpost(self, theta) -> float: ...

    def logpost_batch(self, thetas) -> np.ndarray: ...

    def pointwise_logl(self, theta) -> np.ndarray: ...

    def residuals(self, theta) -> np.ndarray: ...

    def residuals_batch(self, thetas) -> np.ndarray: ...

    def units(self) -> dict[str, str]: ...

    def prior_descriptions(self) -> dict[str, dict]: ...


__all__ = ["Carded", "ModelCard", "ParameterSpec", "Posterior", "ReportingModel", "card_of", "derived_row"]
