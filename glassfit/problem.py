"""A run's problem assembled from its :class:`~glassfit.runspec.RunSpec`: the data, one model per dataset,
their Parameters with the specification's values, flags, ties and priors, and the (joint) objective.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from glassfit import datasets, expressions, models, optimize, priors
from glassfit.contract import card_of
from glassfit.dataset import Dataset
from glassfit.loading import DataError, check_against_model
from glassfit.objective import JointObjective, Objective
from glassfit.runspec import RunSpec

FAMILIES = {
    "heat_capacity": {"kki": models.KKIHeatCapacityModel, "stm": models.STMHeatCapacityModel},
    "conductivity": {"kki": models.KKIConductivityModel, "stm": models.STMConductivityModel},
    "attenuation": {"kki": models.KKIAttenuationModel, "stm": models.STMAttenuationModel},
    "velocity": {"kki": models.KKIVelocityModel, "stm": models.STMVelocityModel},
    "time_heat": {"kki": models.KKITimeHeatModel, "stm": models.BlackTimeHeatModel},
    "loss": {"kki": models.KKIResonatorLossModel, "stm": models.STMResonatorLossModel},
    "frequency_shift": {"kki": models.KKIResonatorShiftModel, "stm": models.STMResonatorShiftModel},
    "heat_release": {"kki": models.KKIHeatReleaseModel, "stm": models.BlackHeatReleaseModel},
}


@dataclass(frozen=True)
class Problem:
    """The datasets, their models and Parameters, and the objective of a run."""

    datasets: list[Dataset]
    models: list
    params: list
    objective: object


def _model_options(dataset: Dataset, cls, entry: datasets.CatalogEntry | None) -> dict:
    """Constructor options matching the dataset: its unit, and for a synthetic catalog ``entry`` the generator's
    options (a user's file never takes a catalog entry's options, whatever its name)."""
    if entry is not None and entry.synthetic and entry.synthetic["model"] == cls.name_id:
        return dict(entry.synthetic.get("options", {}))
    if dataset.observable in ("heat_capacity", "time_heat", "attenuation", "heat_release"):   # an output unit
        return {"output": dataset.y_unit}
    return {}


def model_for(dataset: Dataset, model: str = "kki", t_exp: float | None = None,
              entry: datasets.CatalogEntry | None = None):
    """The model of ``dataset``: the ``model`` family's class for its observable, or the registry model;
    ``t_exp`` [s] is the measurement time of a heat-capacity dataset (None: the t → ∞ equilibrium c);
    ``entry``: the catalog entry the dataset was loaded from (None for a file)."""
    if model in models.REGISTRY:
        cls = models.REGISTRY[model]
    else:
        cls = FAMILIES[dataset.observable].get(model)
        if cls is None:
            raise ValueError(f"{dataset.id}: no {model!r} model of {dataset.observable}")
    options = _model_options(dataset, cls, entry)
    if t_exp is not None:
        if dataset.observable != "heat_capacity":
            raise ValueError(f"--t-exp is the measurement time of a heat capacity; {dataset.id} is "
                             f"{dataset.observable}")
        options["t_exp"] = t_exp
    return cls(**options)


def _apply(spec: RunSpec, model, params):
    """Values, free/fixed flags of ``spec`` on one model's Parameters (names it lacks are skipped)."""
    for name, value in spec.values.items():
        if name in params:
            lo, hi = params[name].min, params[name].max
            if not lo <= float(value) <= hi:
                raise ValueError(f"--set {name}={value:g} is outside its bounds [{lo:g}, {hi:g}] "
                                 f"({model.spec(name).unit})")
            params[name].set(value=float(value))
    for name in spec.free:
        if name in params:
            params[name].set(vary=True)
    for name in spec.fixed:
        if name in params:
            params[name].set(vary=False)
    for name in spec.priors:              # a prior makes a parameter free
        if name in params and not params[name].expr:
            params[name].set(vary=True)
    params = _log_parameters(spec, params)
    for name, expr in spec.ties.items():
        if name in params:
            try:
                params[name].set(expr=expressions.checked(name, expr, params))
                value = params[name].value                  # evaluated now, not at the first model call
            except (ArithmeticError, NameError, RuntimeError, SyntaxError, TypeError) as exc:
                detail = f": {exc}" if str(exc) else " (an overflow or invalid operation)"
                raise ValueError(f"--tie {name}={expr} cannot be evaluated at the start values{detail}") from None
            if not math.isfinite(value):
                raise ValueError(f"--tie {name}={expr} gives {value} at the start values")
    return params


def _log_parameters(spec: RunSpec, params):
    """Replace each parameter of ``spec.log`` by ln_NAME (free if NAME was), NAME = exp(ln_NAME)."""
    for name in spec.log:
        if name in params:
            p = params[name]
            if not p.min > 0:
                raise ValueError(f"--log {name}: only parameters with a positive lower bound can be sampled in ln")
            params.add(f"ln_{name}", value=math.log(p.value), min=math.log(p.min), max=math.log(p.max), vary=p.vary)
            p.set(expr=f"exp(ln_{name})")
    return params


def _check_names(spec: RunSpec, all_params):
    """Every name in ``spec`` must belong to some model of the data under either family (so that one
    specification serves :func:`compare`)."""
    known = set().union(*(set(p) for p in all_params))
    for option, names in (("--set", spec.values), ("--free", spec.free), ("--fix", spec.fixed),
                          ("--log", spec.log), ("--tie", spec.ties), ("--prior", spec.priors)):
        unknown = sorted(set(names) - known)
        if unknown:
            raise ValueError(f"unknown parameter {unknown[0]!r} in {option}; the models have: {sorted(known)}")


def _distinct_ids(loaded: list[Dataset], where: list[str]) -> list[Dataset]:
    """Datasets with distinct ids: files that share a name (in different folders) get their folder's name
    as a prefix (``folder-name``), then a number if that is not enough."""
    ids = [d.id for d in loaded]
    out = []
    for d, w in zip(loaded, where, strict=True):
        if ids.count(d.id) > 1:
            d = dataclasses.replace(d, id=f"{Path(w).parent.name}-{d.id}")
        out.append(d)
    if len({d.id for d in out}) != len(out):
        out = [dataclasses.replace(d, id=f"{d.id}-{k + 1}") for k, d in enumerate(out)]
    return out


def windowed(dataset: Dataset, window: dict) -> Dataset:
    """``dataset`` with only its points inside ``window`` (variable → (lo, hi), inclusive; variables it lacks are
    ignored), the dropped count in its notes; DataError if none is left or too few for a fit."""
    keep = np.ones(dataset.n, bool)
    for name, (lo, hi) in window.items():
        if name in dataset.x:
            keep &= (dataset.x[name] >= lo) & (dataset.x[name] <= hi)
    if keep.all():
        return dataset
    if keep.sum() < 2:
        limits = ", ".join(f"{n} in [{lo:g}, {hi:g}]" for n, (lo, hi) in window.items())
        raise DataError(f"{dataset.label}: --window keeps {keep.sum()} of its {dataset.n} points ({limits})")
    limits = ", ".join(f"{n} ∈ [{lo:g}, {hi:g}]" for n, (lo, hi) in window.items() if n in dataset.x)
    return dataclasses.replace(dataset, x={k: v[keep] for k, v in dataset.x.items()}, y=dataset.y[keep],
                               sigma=None if dataset.sigma is None else dataset.sigma[keep],
                               notes=(*dataset.notes, f"window {limits}: {dataset.n - keep.sum()} of {dataset.n} "
                                                      "points left out"))


def build(spec: RunSpec) -> Problem:
    """Load the data, build the models, apply ``spec``'s values, flags and priors, and make the objective."""
    where = [s if s in datasets.catalog() else str(Path(s).resolve()) for s in spec.sources]
    if len(set(where)) != len(where):
        raise DataError(f"the same dataset is given twice: {next(w for w in where if where.count(w) > 1)}")
    reads = datasets.file_reads(spec.sources, spec.read)
    loaded = _distinct_ids([datasets.load_source(s, read) for s, read in zip(spec.sources, reads, strict=True)],
                           where)
    unknown = sorted(set(spec.noise_of) - {d.id for d in loaded})
    if unknown:
        raise ValueError(f"--noise-of {unknown[0]}: no such dataset; the datasets are {[d.id for d in loaded]}")
    loaded = [windowed(d, spec.window) for d in loaded]
    entries = [datasets.catalog().get(s) for s in spec.sources]
    built = [model_for(d, spec.model, spec.t_exp, e) for d, e in zip(loaded, entries, strict=True)]
    all_params = [m.make_params() for m in built]
    families = () if spec.model in models.REGISTRY else tuple(FAMILIES[loaded[0].observable])
    _check_names(spec, all_params + [model_for(d, f, spec.t_exp, e).make_params()
                                     for d, e in zip(loaded, entries, strict=True) for f in families])
    parsed = {}
    for name, text in spec.priors.items():
        try:
            parsed[name] = priors.prior_from_text(text)
        except ValueError as exc:
            raise ValueError(f"--prior {name}={text}: {exc}") from None
    for name in set(spec.log) & set(parsed):
        parsed[f"ln_{name}"] = priors.in_logarithm(parsed.pop(name), name)
    parts = []
    for dataset, model, params in zip(loaded, built, all_params, strict=True):
        _apply(spec, model, params)
        check_against_model(dataset, model, params)
        own = {n: p for n, p in parsed.items() if n in params and params[n].vary and not params[n].expr}
        card = card_of(model).in_logarithms([n for n in spec.log if n in params])
        parts.append(Objective(model, dataset, params, noise=spec.noise_of.get(dataset.id, spec.noise), priors=own,
                               card=card))
    objective = parts[0] if len(parts) == 1 else JointObjective(parts, priors=parsed)
    return Problem(loaded, built, all_params, objective)


def find_map(problem: Problem, spec: RunSpec, use_priors: bool = True) -> optimize.MapResult:
    """The MAP of the problem by ``spec.search`` (:data:`SEARCHES`), seeded by ``spec.seed``."""
    return optimize.map_fit(problem.objective, method=spec.search, starts=spec.starts, seed=spec.seed,
                            use_priors=use_priors)


def truths(problem: Problem) -> dict:
    """The true value of each free parameter of synthetic data (ln X for a parameter ln_X), for the plots."""
    truth = {k: v for d in problem.datasets if d.true_params for k, v in d.true_params.items()}
    truth.update({f"ln_{k}": math.log(v) for k, v in truth.items() if v > 0})
    return {n: truth[n] for n in problem.objective.names if n in truth}


__all__ = ["FAMILIES", "Problem", "build", "find_map", "model_for", "truths"]
