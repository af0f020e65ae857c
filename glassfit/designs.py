"""Synthetic experiments as a study file declares them: a registered model, a grid of its independent variables and
a relative noise (the study kinds :mod:`glassfit.sbc` and :mod:`glassfit.time_laws` share them).

A grid gives each independent variable as a list of values or as ``{geomspace = [lo, hi, n]}`` /
``{linspace = [lo, hi, n]}``; the points are every combination, except that the variables named in ``paired``
(e.g. ``["T", "T1"]``: a heat release's bath and starting temperatures) run together, value by value.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

SPACINGS = {"geomspace": np.geomspace, "linspace": np.linspace}
_PART_KEYS = {"model", "noise", "options", "paired"}


@dataclass(frozen=True)
class Part:
    """One synthetic dataset: model id, grid (variable → values), relative noise, model options, paired variables."""

    model: str
    grid: tuple[tuple[str, tuple[float, ...]], ...]
    noise: float
    options: tuple[tuple[str, object], ...] = ()
    paired: tuple[str, ...] = ()


def children(seed: np.random.SeedSequence, n: int) -> list[np.random.SeedSequence]:
    """The first ``n`` children of ``seed`` (what ``seed.spawn(n)`` gives a fresh SeedSequence), without spawning:
    a replicate given the same seed twice draws the same numbers twice."""
    return [np.random.SeedSequence(seed.entropy, spawn_key=(*seed.spawn_key, k)) for k in range(n)]


def settings(section: dict, defaults: dict, where: str) -> dict:
    """The integer settings ``defaults`` (name → default) of a study section, each ≥ 1; ValueError naming ``where``."""
    out = {k: section.get(k, v) for k, v in defaults.items()}
    for k, v in out.items():
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{where} {k} must be an integer ≥ 1, got {v!r}")
    return out


def axis(name: str, value, where: str) -> tuple[float, ...]:
    """The values of one grid variable from a list or a spacing table; ValueError naming ``where`` if malformed."""
    if isinstance(value, dict):
        if len(value) != 1 or next(iter(value)) not in SPACINGS:
            raise ValueError(f"{where}: {name} = {value!r}: give a list of values or one of "
                             f"{{geomspace = [lo, hi, n]}}, {{linspace = [lo, hi, n]}}")
        (kind, args), = value.items()
        if not (isinstance(args, list) and len(args) == 3 and isinstance(args[2], int) and args[2] >= 1):
            raise ValueError(f"{where}: {name}: {kind} takes [lo, hi, n] with an integer n ≥ 1, got {args!r}")
        values = SPACINGS[kind](float(args[0]), float(args[1]), args[2])
    else:
        values = np.asarray(value, dtype=float).ravel()
    if values.size == 0 or not np.all(np.isfinite(values)):
        raise ValueError(f"{where}: {name}: the grid must hold finite numbers, got {value!r}")
    return tuple(float(v) for v in values)


def parse_part(raw: dict, where: str, model: str | None = None) -> Part:
    """A :class:`Part` from its table (``model`` given by the caller instead, if not None); ValueError naming
    ``where`` if malformed."""
    from glassfit import models

    if not isinstance(raw, dict):
        raise ValueError(f"{where}: a dataset must be a table")
    name = raw.get("model", model)
    if name not in models.REGISTRY:
        raise ValueError(f"{where}: unknown model {name!r}; the models are {sorted(models.REGISTRY)}")
    variables = models.REGISTRY[name]().independent_vars
    unknown = sorted(set(raw) - _PART_KEYS - set(variables))
    if unknown or set(variables) - set(raw):
        raise ValueError(f"{where}: model {name} takes the grid of {variables} and {sorted(_PART_KEYS)}; "
                         f"got {sorted(raw)}")
    noise = raw.get("noise")
    if isinstance(noise, bool) or not (isinstance(noise, int | float) and noise > 0):
        raise ValueError(f"{where}: noise must be a relative σ > 0, got {noise!r}")
    grid = tuple((v, axis(v, raw[v], where)) for v in variables)
    paired = tuple(raw.get("paired", ()))
    if paired and (not set(paired) <= set(variables) or len({len(dict(grid)[v]) for v in paired}) != 1):
        raise ValueError(f"{where}: paired = {list(paired)} must name variables of {variables} with as many values")
    return Part(name, grid, float(noise), tuple(sorted(dict(raw.get("options", {})).items())), paired)


def points(part: Part) -> dict:
    """The grid's points: variable → array, every combination of the axes (the paired ones running together)."""
    axes = dict(part.grid)
    groups = [(name,) for name in axes if name not in part.paired] + ([part.paired] if part.paired else [])
    index = np.meshgrid(*(np.arange(len(axes[g[0]])) for g in groups), indexing="ij")
    out = {}
    for group, k in zip(groups, index, strict=True):
        for name in group:
            out[name] = np.asarray(axes[name])[k.ravel()]
    return {name: out[name] for name in axes}


@cache
def model(part: Part):
    """The model of ``part`` (one instance per process)."""
    from glassfit import models

    return models.REGISTRY[part.model](**dict(part.options))


def parameters(fitted, free, tie=(), values=None):
    """The lmfit Parameters of model ``fitted``: the rows in ``free`` vary, the others are fixed; ``tie`` (name,
    expression) pairs set expressions; ``values`` (name → value) set values of rows without one."""
    params = fitted.make_params()
    for name, p in params.items():
        if not p.expr:
            p.set(vary=name in free)
    for name, expr in tie:
        if name in params:
            params[name].set(expr=expr)
    for name, value in (values or {}).items():
        if name in params and not params[name].expr:
            params[name].set(value=value)
    return params


def model_parameters(part: Part) -> set[str]:
    """The names of the rows of ``part``'s model that can vary (no expression)."""
    return {n for n, p in model(part).make_params().items() if not p.expr}


__all__ = ["SPACINGS", "Part", "axis", "children", "model", "model_parameters", "parameters", "parse_part", "points",
           "settings"]
