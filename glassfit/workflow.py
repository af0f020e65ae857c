"""The user's path from data to a posterior, one public function per ``glassfit`` subcommand.

:func:`fit` takes catalogued dataset ids or the user's files, builds one model per dataset (the KKI or
the standard-tunnelling family, chosen by the dataset's observable), shares parameters by name across
datasets (a joint fit), fits by least squares or samples with emcee, and writes a run directory:

==============  =====================================================================================
``run.json``    the run's specification: everything needed to rebuild the objective (plot, report, resume)
``summary.json`` parameters with uncertainties and units, priors, data sha256, versions, seed
``chain.h5``    the emcee chain (resumable)                                           (emcee only)
``fit*.png``    data, median model, 68/95 % posterior bands and residuals, one per dataset
``corner.png``  corner plot with units (emcee only); ``trace.png`` walker traces (emcee only)
``report.md``   parameters, convergence diagnostics, data provenance and the command that reproduces it
==============  =====================================================================================

:func:`compare` fits the KKI and the STM (Black) family to the same data and tabulates ΔAIC/ΔBIC;
:func:`plot` and :func:`report` redo the figures and the report of a saved run; :func:`demo` is the
README's main job.  Every data problem raises :class:`glassfit.loading.DataError`, every bad argument a
ValueError with one readable line; the command line turns both into exit code 2.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import shlex
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.stats import chi2 as chi2_distribution

from glassfit import (
    checks,
    datasets,
    expressions,
    identifiability,
    models,
    optimize,
    priors,
    results,
    rundir,
    sampling,
)
from glassfit import compare as comparison
from glassfit.loading import DataError, Dataset, check_against_model
from glassfit.objective import Data, JointObjective, Objective

#: Model class of each (observable, family); a registry name (``glassfit models``) selects one directly.
FAMILIES = {
    "heat_capacity": {"kki": models.KKIHeatCapacityModel, "stm": models.STMHeatCapacityModel},
    "conductivity": {"kki": models.KKIConductivityModel, "stm": models.STMConductivityModel},
    "attenuation": {"kki": models.KKIAttenuationModel, "stm": models.STMAttenuationModel},
    "velocity": {"kki": models.KKIVelocityModel, "stm": models.STMVelocityModel},
    "time_heat": {"kki": models.KKITimeHeatModel, "stm": models.BlackTimeHeatModel},
}
METHODS = ("leastsq", "emcee")
#: how the MAP is found before least squares reports it and before walkers start: a global search
#: (glassfit.optimize.METHODS) or "none" (local least squares from the start values only)
SEARCHES = optimize.METHODS
#: emcee proposals: the affine-invariant stretch move, or a differential-evolution mixture for strongly
#: correlated (ridge-like) posteriors
MOVES = ("stretch", "de")


def _moves(name):
    import emcee

    return None if name == "stretch" else [(emcee.moves.DEMove(), 0.8), (emcee.moves.DESnookerMove(), 0.2)]


@dataclass(frozen=True)
class RunSpec:
    """What :func:`fit` does, in a form that is written to ``run.json`` and read back.

    ``sources``: catalog ids or file paths; ``model``: "kki", "stm" or a registry name; ``read`` (files only):
    keyword arguments of :func:`glassfit.loading.read_table` (observable, columns, units, sigma_rel), one
    dict for every file or a list of one per file in the order of the files;
    ``values``: NAME → value; ``free``/``fixed``: names to vary or hold; ``log``: positive parameters sampled
    as ln NAME (a new parameter ``ln_NAME``; NAME becomes derived) — for scales that the data fix only in
    combination, whose posterior ridges are straight in logarithms; ``ties``: NAME → lmfit expression of
    other parameters (e.g. ``{"chi_2": "chi_1"}``); ``priors``: NAME → prior text
    (:func:`glassfit.priors.prior_from_text`); ``noise``: "known", "scaled" or "fitted"; ``search``: the
    global search for the MAP (:data:`SEARCHES`) with ``starts`` local fits (default max(6, 2 d));
    ``t_exp``: the measurement time [s] of heat-capacity data (None: equilibrium, t → ∞).
    """

    sources: tuple[str, ...]
    model: str = "kki"
    method: str = "emcee"
    read: dict | list = field(default_factory=dict)
    values: dict = field(default_factory=dict)
    free: tuple[str, ...] = ()
    fixed: tuple[str, ...] = ()
    log: tuple[str, ...] = ()
    ties: dict = field(default_factory=dict)
    priors: dict = field(default_factory=dict)
    noise: str = "known"
    walkers: int | None = None
    steps: int = 3000
    until_converged: bool = True
    seed: int = 0
    processes: int = 1
    moves: str = "stretch"
    search: str = "multistart"
    starts: int | None = None
    t_exp: float | None = None

    def __post_init__(self):
        if not self.sources:
            raise ValueError("give at least one dataset id or file")
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {self.method!r}")
        if self.moves not in MOVES:
            raise ValueError(f"moves must be one of {MOVES}, got {self.moves!r}")
        if not isinstance(self.steps, int) or self.steps < 1:
            raise ValueError(f"--steps must be an integer ≥ 1, got {self.steps!r}")
        cores = os.cpu_count() or 1
        if not isinstance(self.processes, int) or not 1 <= self.processes <= cores:
            raise ValueError(f"--processes must be between 1 and the {cores} cores of this machine, "
                             f"got {self.processes!r}")
        if self.walkers is not None and (self.walkers < 2 or self.walkers % 2):
            raise ValueError(f"--walkers must be an even number ≥ 2 (and ≥ 2 × the free parameters), "
                             f"got {self.walkers}")
        if self.search not in SEARCHES:
            raise ValueError(f"search must be one of {SEARCHES}, got {self.search!r}")
        if self.starts is not None and self.starts < 1:
            raise ValueError(f"--starts must be ≥ 1, got {self.starts}")
        if self.t_exp is not None and not (math.isfinite(self.t_exp) and self.t_exp > 0):
            raise ValueError(f"--t-exp must be a positive time in seconds, got {self.t_exp}")
        families = {family for per in FAMILIES.values() for family in per}
        if self.model not in families and self.model not in models.REGISTRY:
            raise ValueError(f"unknown model {self.model!r}; use one of {sorted(families)} or a model of "
                             f"`glassfit models`: {sorted(models.REGISTRY)}")
        clash = sorted(set(self.free) & set(self.fixed))
        if clash:
            raise ValueError(f"parameters {clash} are both freed and fixed")
        for name in sorted(set(self.priors) & set(self.ties)):
            raise ValueError(f"--prior {name}=… would be ignored: {name} is tied (--tie {name}={self.ties[name]}); "
                             "give the prior to the parameters it is tied to")
        for name in sorted(set(self.priors) & set(self.fixed)):
            raise ValueError(f"--prior {name}=… and --fix {name} contradict each other: a fixed parameter has no "
                             "prior; drop one of them")
        for name, expr in self.ties.items():
            expressions.checked(name, expr)          # syntax and safety before any data is read


@dataclass(frozen=True)
class Problem:
    """The datasets, their models and Parameters, and the objective of a run."""

    datasets: list[Dataset]
    models: list
    params: list
    objective: object


# ---------------------------------------------------------------------------
# data and models
# ---------------------------------------------------------------------------

def _model_options(dataset: Dataset, cls) -> dict:
    """Constructor options matching the dataset: its unit, and for synthetic sets the generator's options."""
    entry = datasets.catalog().get(dataset.id)
    if entry is not None and entry.synthetic and entry.synthetic["model"] == cls.name_id:
        return dict(entry.synthetic.get("options", {}))
    if dataset.observable in ("heat_capacity", "time_heat", "attenuation"):      # models with an output unit
        return {"output": dataset.y_unit}
    return {}


def model_for(dataset: Dataset, model: str = "kki", t_exp: float | None = None):
    """The model of ``dataset``: the ``model`` family's class for its observable, or the registry model;
    ``t_exp`` [s] is the measurement time of a heat-capacity dataset (None: the t → ∞ equilibrium c)."""
    if model in models.REGISTRY:
        cls = models.REGISTRY[model]
    else:
        cls = FAMILIES[dataset.observable].get(model)
        if cls is None:
            raise ValueError(f"{dataset.id}: no {model!r} model of {dataset.observable}")
    options = _model_options(dataset, cls)
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


def build(spec: RunSpec) -> Problem:
    """Load the data, build the models, apply ``spec``'s values, flags and priors, and make the objective."""
    where = [s if s in datasets.catalog() else str(Path(s).resolve()) for s in spec.sources]
    if len(set(where)) != len(where):
        raise DataError(f"the same dataset is given twice: {next(w for w in where if where.count(w) > 1)}")
    reads = datasets.file_reads(spec.sources, spec.read)
    loaded = _distinct_ids([datasets.load_source(s, read) for s, read in zip(spec.sources, reads, strict=True)],
                           where)
    built = [model_for(d, spec.model, spec.t_exp) for d in loaded]
    all_params = [m.make_params() for m in built]
    families = () if spec.model in models.REGISTRY else tuple(FAMILIES[loaded[0].observable])
    _check_names(spec, all_params + [model_for(d, f, spec.t_exp).make_params() for d in loaded
                                     for f in families])
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
        data = Data(dataset.x, dataset.y, dataset.sigma, name=dataset.id,
                    meta={"sha256": dataset.sha256 or "", "nature": dataset.nature, "citation": dataset.citation,
                          "source": dataset.source, "observable": dataset.observable, "unit": dataset.y_unit})
        own = {n: p for n, p in parsed.items() if n in params and params[n].vary and not params[n].expr}
        parts.append(Objective(model, data, params, noise=spec.noise, priors=own))
    objective = parts[0] if len(parts) == 1 else JointObjective(parts, priors=parsed)
    return Problem(loaded, built, all_params, objective)


# ---------------------------------------------------------------------------
# fitting and the run directory
# ---------------------------------------------------------------------------

def _save_spec(spec: RunSpec, out: Path, command: str | None, chain: Path):
    doc = {"spec": dataclasses.asdict(spec), "command": command, "chain": str(chain.resolve())}
    rundir.write_text(out / "run.json", json.dumps(doc, indent=2))


def _chain_of(run_dir) -> Path:
    return Path(json.loads((Path(run_dir) / "run.json").read_text())["chain"])


def load_spec(run_dir) -> tuple[RunSpec, str | None]:
    """The :class:`RunSpec` and command line of a run directory; ValueError if it is not one."""
    path = Path(run_dir) / "run.json"
    try:
        doc = json.loads(path.read_text())
        spec = doc["spec"]
        spec = RunSpec(**{**spec, **{k: tuple(spec[k]) for k in ("sources", "free", "fixed", "log") if k in spec}})
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{run_dir} is not a glassfit run directory (run.json: {exc})") from None
    return spec, doc.get("command")


def _fit_name(problem: Problem, k: int) -> str:
    return "fit.png" if len(problem.datasets) == 1 else f"fit-{problem.datasets[k].id}.png"


def _unit_suffix(unit: str) -> str:
    return "" if unit in ("", "1") else f" {unit}"


def _probability(p: float) -> str:
    return f"= {p:.2g}" if p > 0 else "< 1e-300"


def _truths(problem: Problem) -> dict:
    """The true value of each free parameter of synthetic data (ln X for a parameter ln_X), for the plots."""
    truth = {k: v for d in problem.datasets if d.true_params for k, v in d.true_params.items()}
    truth.update({f"ln_{k}": math.log(v) for k, v in truth.items() if v > 0})
    return {n: truth[n] for n in problem.objective.names if n in truth}


def _figure_names(problem: Problem, method: str) -> list[str]:
    """The figures a run of ``method`` writes (and its report shows): one fit plot per dataset, and for emcee
    the corner and trace plots; files of any earlier run in the directory are not this run's."""
    names = [_fit_name(problem, k) for k in range(len(problem.datasets))]
    return names + (["corner.png", "trace.png"] if method == "emcee" else [])


def _title(dataset: Dataset, model) -> str:
    return f"{dataset.label}: {type(model).__name__}"


def find_map(problem: Problem, spec: RunSpec, use_priors: bool = True) -> optimize.MapResult:
    """The MAP of the problem by ``spec.search`` (:data:`SEARCHES`), seeded by ``spec.seed``."""
    return optimize.map_fit(problem.objective, method=spec.search, starts=spec.starts, seed=spec.seed,
                            use_priors=use_priors)


NOISE_TEXT = {
    "known": "σ as given in the data (noise model `known`): errors are not rescaled by χ²_ν",
    "scaled": "σ scaled by a fitted factor per dataset (noise model `scaled`)",
    "fitted": "a fitted relative σ per dataset (noise model `fitted`)",
}


def _search_doc(found: optimize.MapResult, objective, limit: int = 8) -> dict:
    return {"method": found.method, "n_evaluations": found.n_evaluations, "seconds": found.elapsed,
            "optima": [{"chisqr": o.chisqr, "prior_penalty": o.prior_penalty, "hits": o.hits,
                        "theta": dict(zip(objective.names, o.theta.tolist(), strict=True))}
                       for o in found.optima[:limit]],
            "n_optima": len(found.optima)}


def _diagnostics(problem: Problem, theta, cov=None, draws=None) -> dict:
    """Identifiability, derived quantities, validity warnings and data flags at θ (JSON-able)."""
    objective = problem.objective
    directions = identifiability.singular_directions(objective, theta)
    flags = [f"{d.id}: {line}" if len(problem.datasets) > 1 else line
             for d in problem.datasets for line in checks.data_flags(d.observable, d.x, d.y)]
    return {"directions": [{"s": d.s, "combination": d.text(), "components": d.components} for d in directions],
            "constraints": identifiability.constraint_table(objective, theta, cov=cov, draws=draws),
            "derived": identifiability.derived_quantities(objective, theta, cov=cov, draws=draws),
            "warnings": identifiability.warnings_at(objective, theta),
            "flags": flags}


def _statistics(problem: Problem, theta) -> dict:
    objective = problem.objective
    chisqr = float(np.sum(objective.residuals(theta) ** 2))
    n = int(sum(d.n for d in problem.datasets))
    stats = comparison.FitStatistics(chisqr, n, objective.ndim)
    dof = max(n - objective.ndim, 1)
    return {"chisqr": chisqr, "ndata": n, "nvarys": objective.ndim, "redchi": chisqr / dof,
            "aic": stats.aic, "bic": stats.bic, "p_value": float(chi2_distribution.sf(chisqr, dof))}


def _leastsq_summary(problem: Problem, spec: RunSpec) -> dict:
    objective = problem.objective
    found = find_map(problem, spec)
    theta, cov = found.theta, found.cov
    units = objective.units()
    errors = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    summary = {"method": "leastsq", "theta": theta.tolist(),
               "parameters": [{"name": name, "unit": units[name], "value": float(v), "stderr": float(e)}
                              for name, v, e in zip(objective.names, theta, errors, strict=True)],
               **_statistics(problem, theta), "prior_penalty": found.best.prior_penalty,
               "noise": spec.noise, "errors": "Laplace approximation at the MAP; " + NOISE_TEXT[spec.noise],
               "search": _search_doc(found, objective),
               "priors": {name: p.describe() for name, p in objective.priors.items()},
               "datasets": [{"name": d.id, "points": d.n, "sha256": d.sha256, "nature": d.nature}
                            for d in problem.datasets]}
    summary.update(_diagnostics(problem, theta, cov=cov))
    return summary


@dataclass(frozen=True)
class FitRun:
    """A finished :func:`fit`: the run directory, its files, the problem and (emcee) the run information."""

    out: Path
    files: list[Path]
    problem: Problem
    summary: dict
    info: object = None


def fit(spec: RunSpec, out="glassfit-run", *, resume: bool = False, quiet: bool = False,
        command: str | None = None, chain=None) -> FitRun:
    """Fit ``spec`` and write the run directory ``out`` (module docstring); the emcee chain goes to ``chain``
    (default ``out/chain.h5``).  ``resume`` continues that chain up to ``spec.steps`` total steps (same data
    and parameters, checked)."""
    out = Path(out)
    problem = build(spec)
    if problem.objective.ndim == 0:
        raise ValueError("no free parameters: free some with --free NAME or --prior NAME=...")
    chain = Path(chain) if chain else out / "chain.h5"
    if resume and not chain.exists():
        raise ValueError(f"cannot resume: {chain} does not exist")
    if chain.exists() and not resume:
        if spec.method == "emcee":
            option = "--chain" if chain != out / "chain.h5" else "--out"
            raise ValueError(f"{chain} exists: pass --resume to continue it, or choose another {option}")
        raise ValueError(f"{out} holds an emcee run ({chain.name}); a least-squares fit there would mix two runs "
                         "in one directory: choose another --out")
    with rundir.lock(out):
        return _fit_locked(problem, spec, out, resume, quiet, command, chain)


def _fit_locked(problem, spec, out, resume, quiet, command, chain) -> FitRun:
    _save_spec(spec, out, command, chain)
    info = None
    if spec.method == "leastsq":
        summary = _clean(_leastsq_summary(problem, spec))
        rundir.write_text(out / "summary.json", json.dumps(summary, indent=2, allow_nan=False))
    else:
        search, start = _previous_search(out) if resume else None, None
        if search is None:
            found = find_map(problem, spec)
            search = _search_doc(found, problem.objective)
            nwalkers = spec.walkers or sampling.default_walkers(problem.objective.ndim)
            start = sampling.initial_walkers(problem.objective, nwalkers, found.theta, found.cov, rng=spec.seed)
        info = sampling.run(problem.objective, chain, max_steps=spec.steps, nwalkers=spec.walkers, seed=spec.seed,
                            resume=resume, processes=spec.processes, converge=spec.until_converged,
                            progress=not quiet and sys.stderr.isatty(), moves=_moves(spec.moves),
                            start=start)
        summary = _posterior_summary(problem, spec, out, chain, search)
    files = _figures(problem, out, summary)
    files.append(_write_report(problem, spec, out, summary, command))
    return FitRun(out, [out / "run.json", out / "summary.json", *([chain] if info else []), *files], problem,
                  summary, info)


def _previous_search(out: Path) -> dict | None:
    """The global-search record of a run being resumed (its walkers started there)."""
    try:
        return json.loads((out / "summary.json").read_text()).get("search")
    except (OSError, ValueError):
        return None


def _posterior_summary(problem: Problem, spec: RunSpec, out: Path, chain: Path, search: dict | None) -> dict:
    objective = problem.objective
    posterior = results.Posterior.load(chain)
    derived = results.derived(posterior, objective)
    summary = results.summarize(posterior, objective, derived_values=derived)
    results.save_summary(summary, objective, out / "summary.json", posterior)
    doc = results.load_summary(out / "summary.json")
    theta = posterior.map()
    doc.update({"method": "emcee", "noise": spec.noise,
                "errors": "posterior 16/84 % quantiles; " + NOISE_TEXT[spec.noise],
                "search": search, **_statistics(problem, theta)})
    doc.update(_diagnostics(problem, theta, draws=posterior.samples(max_draws=max(200, posterior.nwalkers))))
    doc = _clean(doc)
    rundir.write_text(out / "summary.json", json.dumps(doc, indent=2, allow_nan=False))
    return doc


def _figures(problem: Problem, out: Path, summary: dict) -> list[Path]:
    from glassfit import plotting

    files = []
    if summary["method"] == "emcee":
        posterior = results.Posterior.load(_chain_of(out))
        for k, (dataset, model) in enumerate(zip(problem.datasets, problem.models, strict=True)):
            path = out / _fit_name(problem, k)
            plotting.plot_fit(posterior, problem.objective, dataset=dataset.id, title=_title(dataset, model),
                              path=path)
            files.append(path)
        plotting.corner_plot(posterior, problem.objective, path=out / "corner.png",
                             title=" + ".join(d.label for d in problem.datasets), truths=_truths(problem))
        plotting.trace_plot(posterior, problem.objective, path=out / "trace.png")
        files += [out / "corner.png", out / "trace.png"]
    else:
        theta = np.asarray(summary["theta"])
        for k, (dataset, model) in enumerate(zip(problem.datasets, problem.models, strict=True)):
            path = out / _fit_name(problem, k)
            plotting.plot_best_fit(theta, problem.objective, dataset=dataset.id,
                                   title=_title(dataset, model) + " (least squares)", path=path)
            files.append(path)
    return files


# ---------------------------------------------------------------------------
# the report
# ---------------------------------------------------------------------------

def _format(value, lo, hi) -> str:
    return f"{value:.5g} −{value - lo:.2g} +{hi - value:.2g}"


def _write_report(problem: Problem, spec: RunSpec, out: Path, summary: dict, command: str | None) -> Path:
    lines = [f"# glassfit run: {' + '.join(d.label for d in problem.datasets)}", ""]
    if any(d.nature == "synthetic" for d in problem.datasets):
        lines += ["**SYNTHETIC DATA**: generated by glassfit's own models (true parameters below).", ""]
    lines += ["Reproduce with:", "", "```bash", command or _command_line(spec, out), "```", "", "## Model", ""]
    for dataset, model, params in zip(problem.datasets, problem.models, problem.params, strict=True):
        lines.append(f"- `{dataset.id}` ({dataset.observable}, {dataset.y_unit}): `{model.name_id}` "
                     f"({type(model).__name__}), noise model `{spec.noise}`")
        fixed = {n: p.value for n, p in params.items() if not p.vary and not p.expr}
        tied = {n: p.expr for n, p in params.items() if p.expr and n in spec.ties}
        lines.append("  - fixed: " + (", ".join(f"{n} = {v:.6g}{_unit_suffix(model.spec(n).unit)}"
                                                 for n, v in fixed.items()) or "none"))
        if tied:
            lines.append("  - tied: " + ", ".join(f"{n} = {e}" for n, e in tied.items()))
        if dataset.observable == "heat_capacity":
            lines.append(f"  - measurement time t_exp = {spec.t_exp:g} s: only TLS relaxing within it contribute"
                         if spec.t_exp is not None else
                         "  - c(T) modelled at equilibrium (t → ∞); a measurement of duration t sees only the TLS "
                         "that relax within t (KKI c_TLS(1 s)/c_TLS,eq = 0.75–0.92 for the reference glass; Black's "
                         "law for the STM): give `--t-exp SECONDS` for measured data")
    lines += ["", "## Parameters", ""]
    if summary["method"] == "emcee":
        lines += ["| parameter | median −/+ 68 % | MAP | unit | N/τ | ESS | R̂ | prior |",
                  "|---|---|---|---|---|---|---|---|"]
        for r in summary["parameters"]:
            prior = summary["priors"].get(r["name"], "derived")
            prior = prior if isinstance(prior, str) else _prior_text(prior)
            cells = [_format(r["median"], r["q16"], r["q84"]), _number(r["map"], ".5g"), r["unit"],
                     _number(r["n_over_tau"], ".0f"), _number(r["ess"], ".0f"), _number(r["rhat"], ".3f"), prior]
            lines.append(f"| {r['name']} | " + " | ".join(cells) + " |")
        chain = summary["chain"]
        lines += ["", f"Errors: {summary.get('errors', '')}. χ² at the MAP sample = {summary['chisqr']:.4g} for "
                  f"{summary['ndata']} points and {summary['nvarys']} free parameters "
                  f"(χ²_ν = {summary['redchi']:.3g}). {fit_quality(summary)}",
                  "", "## Convergence", "",
                  f"- {chain['nwalkers']} walkers × {chain['nsteps']} steps, burn-in {chain['burn_in']} discarded; "
                  f"acceptance {chain['acceptance']:.2f}; non-finite log-posteriors {chain['n_nonfinite']}",
                  f"- converged (N ≥ {sampling.TAU_FACTOR:.0f} τ_max and τ stable to {sampling.TAU_RTOL:.0%} at the "
                  "sampler's last check): **"
                  f"{'yes' if chain['converged'] else 'NO — run longer (--resume --steps N)'}**"]
    else:
        set_by = {r["name"]: r["set_by"] for r in summary.get("constraints", [])}
        lines += ["| parameter | MAP ± 1σ | unit | prior | 1σ set by |", "|---|---|---|---|---|"]
        for r in summary["parameters"]:
            lines.append(f"| {r['name']} | {r['value']:.5g} ± {r['stderr']:.2g} | {r['unit']} | "
                         f"{_prior_text(summary['priors'][r['name']])} | {set_by.get(r['name'], '—')} |")
        lines += ["", f"χ² = {summary['chisqr']:.4g} for {summary['ndata']} points and {summary['nvarys']} free "
                  f"parameters (χ²_ν = {summary['redchi']:.3g}); AIC = {summary['aic']:.4g}, "
                  f"BIC = {summary['bic']:.4g}; prior part −2 ln[p(θ)/p(mode)] = {summary['prior_penalty']:.3g}.",
                  fit_quality(summary), f"Errors: {summary['errors']}."]
    lines += _diagnostics_lines(summary)
    lines += ["", "## Data", ""]
    for d in problem.datasets:
        ranges = ", ".join(f"{k} {v.min():.3g}–{v.max():.3g}" for k, v in d.x.items())
        lines += [f"### {d.label}", "", f"- nature: **{d.nature}**; material: {d.material or '—'}",
                  f"- {d.n} points, {ranges}; y in {d.y_unit}",
                  f"- citation: {d.citation or '—'}; licence: {d.licence or '—'}",
                  f"- source: {d.source or '—'}; sha256: `{d.sha256 or '—'}`"]
        lines += [f"- note: {note}" for note in d.notes]
        if d.true_params:
            lines.append("- true parameters: " + ", ".join(f"{k} = {v:g}" for k, v in d.true_params.items()))
        lines.append("")
    figures = [name for name in _figure_names(problem, summary["method"]) if (out / name).exists()]
    lines += ["## Figures", "", *[f"![{name}]({name})" for name in figures], ""]
    path = out / "report.md"
    rundir.write_text(path, "\n".join(lines))
    return path


#: a χ² this improbable under the stated noise model makes a fit "poor"
POOR_FIT_P = 1e-3


def fit_quality(summary: dict) -> str:
    """One sentence: P(χ² ≥ the observed χ²) under the stated noise model, and whether the fit is poor."""
    p = summary.get("p_value")
    if p is None:
        return ""
    verdict = (" — **a poor fit**: the model does not describe these data within their σ" if p < POOR_FIT_P else "")
    return f"Goodness of fit: P(χ² ≥ {summary['chisqr']:.4g}) {_probability(p)} under the stated noise model{verdict}."


def _diagnostics_lines(summary: dict) -> list[str]:
    """Report sections: warnings, the global search, what the data constrain, derived quantities."""
    lines = []
    notes = summary.get("flags", []) + summary.get("warnings", [])
    if notes:
        lines += ["", "## Warnings", "", *[f"- ⚠ {note}" for note in notes]]
    search = summary.get("search")
    if search:
        names = list(search["optima"][0]["theta"]) if search["optima"] else []
        lines += ["", "## Global search", "",
                  f"`{search['method']}`: {search['n_evaluations']} evaluations in {search['seconds']:.1f} s; "
                  f"{search['n_optima']} distinct local optima (best first; walkers start at the first):", "",
                  "| χ² | prior part | starts | " + " | ".join(names) + " |", "|---" * (3 + len(names)) + "|"]
        for o in search["optima"]:
            lines.append(f"| {o['chisqr']:.4g} | {o['prior_penalty']:.3g} | {o['hits']} | "
                         + " | ".join(f"{o['theta'][n]:.4g}" for n in names) + " |")
    if summary.get("constraints"):
        lines += ["", "## What the data constrain", "",
                  "68 % half-widths of each parameter: posterior, the data alone (√[(JᵀJ)⁻¹]; ∞ along an exact "
                  "degeneracy) and prior. Set by the data when the posterior is as wide as the data allow, by the "
                  "prior when it is as wide as the prior (ratio posterior/prior ≥ 0.9).", "",
                  "| parameter | in | posterior | data alone | prior | posterior/prior | set by |",
                  "|---|---|---|---|---|---|---|"]
        lines += [f"| {r['name']} | {r['coordinate']} | {_number(r['posterior_width'], '.3g')} | "
                  f"{_number(r['data_width'], '.3g') if r['data_width'] is not None else '∞'} | "
                  f"{_number(r['prior_width'], '.3g')} | {_number(r['ratio'], '.2f')} | **{r['set_by']}** |"
                  for r in summary["constraints"]]
        lines += ["", "Singular directions of the data Jacobian at the MAP (ln X for positive parameters spanning "
                  "decades); the data fix each combination to ±1/s:", "",
                  "| s | 1/s | combination |", "|---|---|---|"]
        lines += [f"| {d['s']:.3g} | {_number(1 / d['s'] if d['s'] > 0 else math.inf, '.3g')} | {d['combination']} |"
                  for d in summary["directions"]]
    if summary.get("derived"):
        lines += ["", "## Constrained combinations", "", "| quantity | value | unit | meaning |", "|---|---|---|---|"]
        for r in summary["derived"]:
            if r.get("error") is not None:
                value = f"{r['value']:.4g} ± {r['error']:.2g}"
            elif r.get("q16") is not None:
                value = _format(r["value"], r["q16"], r["q84"])
            else:
                value = _number(r["value"], ".4g")
            lines.append(f"| {r['name']} | {value} | {r['unit']} | {r['description']} |")
    return lines


def _clean(obj):
    """``obj`` with every non-finite float replaced by None (strict JSON)."""
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    if isinstance(obj, float | np.floating):
        return float(obj) if math.isfinite(obj) else None
    return obj


def _number(value, fmt) -> str:
    return format(value, fmt) if value is not None and np.isfinite(value) else "—"


def _prior_text(described: dict) -> str:
    kind = described.get("kind", "")
    args = ", ".join(f"{v:g}" for k, v in described.items() if k != "kind" and isinstance(v, int | float))
    return f"{kind}({args})"


def _command_line(spec: RunSpec, out: Path) -> str:
    words = ["glassfit", "fit", *spec.sources, "--model", spec.model, "--method", spec.method, "--out", str(out)]
    for read in spec.read if isinstance(spec.read, list | tuple) else [spec.read]:
        for key, value in read.items():
            if key == "columns" or key == "units":
                words += [f"--{key}", ",".join(f"{k}={v}" for k, v in value.items())]
            else:
                words += [f"--{key.replace('_', '-')}", str(value)]
    words += [w for name, value in spec.values.items() for w in ("--set", f"{name}={value}")]
    words += [w for name in spec.free for w in ("--free", name)]
    words += [w for name in spec.fixed for w in ("--fix", name)]
    words += [w for name in spec.log for w in ("--log", name)]
    words += [w for name, expr in spec.ties.items() for w in ("--tie", f"{name}={expr}")]
    words += [w for name, text in spec.priors.items() for w in ("--prior", f"{name}={text}")]
    words += ["--noise", spec.noise, "--seed", str(spec.seed)]
    words += [] if spec.search == "multistart" else ["--search", spec.search]
    words += [] if spec.starts is None else ["--starts", str(spec.starts)]
    words += [] if spec.t_exp is None else ["--t-exp", f"{spec.t_exp:g}"]
    if spec.method == "emcee":
        words += ["--steps", str(spec.steps)] + (["--walkers", str(spec.walkers)] if spec.walkers else [])
        words += [] if spec.until_converged else ["--no-until-converged"]
        words += [] if spec.moves == "stretch" else ["--moves", spec.moves]
    return " ".join(shlex.quote(w) for w in words)


def _saved_run(run_dir) -> tuple[Path, RunSpec, str | None, dict, Problem]:
    """A saved run rebuilt: its spec, command, summary and problem; ValueError if its data changed since the
    fit (the one rule of ``plot`` and ``report``: a summary describes the data it was fitted to)."""
    run_dir = Path(run_dir)
    spec, command = load_spec(run_dir)
    try:
        summary = json.loads((run_dir / "summary.json").read_text())
    except (OSError, ValueError) as exc:
        raise ValueError(f"{run_dir} has no readable summary.json ({exc}); refit it") from None
    problem = build(spec)
    fitted = [d.get("sha256") for d in summary.get("datasets", [])]
    now = [d.sha256 for d in problem.datasets]
    if fitted != now:
        changed = [d.id for d, old in zip(problem.datasets, fitted, strict=False) if d.sha256 != old]
        raise ValueError(f"the data of {run_dir} changed since it was fitted ({', '.join(changed) or 'datasets'}: "
                         "sha256 differs from summary.json); refit instead of redrawing or rewriting the report")
    return run_dir, spec, command, summary, problem


def report(run_dir) -> Path:
    """Rewrite ``report.md`` of a saved run from its ``run.json`` and ``summary.json``."""
    run_dir, spec, command, summary, problem = _saved_run(run_dir)
    return _write_report(problem, spec, run_dir, summary, command)


def plot(run_dir) -> list[Path]:
    """Redraw the figures of a saved run."""
    run_dir, _, _, summary, problem = _saved_run(run_dir)
    return _figures(problem, run_dir, summary)


# ---------------------------------------------------------------------------
# comparison and the demo
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Comparison:
    """:func:`compare`'s result: the AIC/BIC rows (least squares, best first) and, when sampled, the PSIS-LOO
    rows (family, Δelpd against the best, its standard error), best first, with the run directories."""

    criteria: list
    loo: list | None = None
    runs: dict = field(default_factory=dict)

    def table(self) -> str:
        """Plain-text table of both comparisons."""
        lines = [f"{'model':8}{'χ²':>12}{'points':>8}{'free':>6}{'ΔAIC':>9}{'ΔBIC':>9}{'weight':>8}"]
        lines += [f"{r.name:8}{r.chisqr:12.4g}{r.n_data:8d}{r.n_varys:6d}{r.delta_aic:9.2f}{r.delta_bic:9.2f}"
                  f"{r.aic_weight:8.3f}" for r in self.criteria]
        if self.loo:
            lines += ["", f"{'model':8}{'Δelpd_loo':>11}{'± se':>9}   (PSIS-LOO from the posterior draws)"]
            lines += [f"{name:8}{delta:11.2f}{se:9.2f}" for name, delta, se in self.loo]
        return "\n".join(lines)


def compare(spec: RunSpec, families=("kki", "stm"), out=None, quiet: bool = True, loo: bool = False) -> Comparison:
    """Fit each family to the data of ``spec``: ΔAIC/ΔBIC from least squares, and with ``loo`` also PSIS-LOO
    from emcee posteriors (sampled as ``spec`` says; each family's run is written to ``out/<family>/``)."""
    fits, loglik, runs = {}, {}, {}
    for family in families:
        problem = build(dataclasses.replace(spec, model=family, method="leastsq"))
        found = find_map(problem, spec, use_priors=False)
        s = _statistics(problem, found.theta)
        fits[family] = comparison.FitStatistics(s["chisqr"], s["ndata"], s["nvarys"])
        if loo:
            target = Path(out or "glassfit-compare") / family
            run = fit(dataclasses.replace(spec, model=family, method="emcee"), target, quiet=quiet)
            posterior = results.Posterior.load(_chain_of(target))
            draws = posterior.samples(max_draws=1000)
            loglik[family] = np.array([run.problem.objective.pointwise_logl(theta) for theta in draws])
            runs[family] = target
    return Comparison(comparison.information_criteria(fits),
                      comparison.compare_elpd(loglik) if loglik else None, runs)


DEMO_FITS = (
    ("kki-heat-capacity", RunSpec(("synthetic-kki-heat-capacity",), "kki", values={"xi_c": 1.2}, fixed=("xi_c",),
                                  steps=5000)),
    ("stm-heat-capacity", RunSpec(("synthetic-kki-heat-capacity",), "stm", steps=5000)),
    ("stycast-1266", RunSpec(("stycast-1266",), "stm", log=("C", "v_l"), ties={"v_t": "0.5*v_l"},
                             priors={"v_l": "lognormal(3000, 0.4)"}, walkers=32, steps=8000)),
)


def demo(out="glassfit-demo", quiet: bool = False, steps_scale: float = 1.0) -> Path:
    """The README's main job: fit the bundled SYNTHETIC c(T) with KKI and STM and, when the data are
    reachable, the measured κ(T) of Stycast 1266 (STM + Rayleigh; no velocities are published for it, so
    v_l has a log-normal prior centred on 3000 m/s, v_t = v_l/2, and C and v_l are sampled in logarithms,
    where their ridge κ ∝ 1/(C v) is straight), writing each run to ``out/<name>/``, the comparison to
    ``out/compare.md`` and an index to ``out/README.md``; returns ``out``.  ``steps_scale`` shortens the
    chains (tests)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    say = (lambda *a: None) if quiet else (lambda *a: print(*a, file=sys.stderr))
    t0 = time.perf_counter()
    index = ["# glassfit demo", "", f"Written by `glassfit demo` (glassfit {_version()}).", "",
             "| run | data | model | χ²_ν at the MAP | result |", "|---|---|---|---|---|"]
    for name, spec in DEMO_FITS:
        spec = dataclasses.replace(spec, steps=max(200, int(spec.steps * steps_scale)))
        target = out / name
        (target / "chain.h5").unlink(missing_ok=True)
        try:
            run = fit(spec, target, quiet=quiet)
        except DataError as exc:
            say(f"skipped {name}: {exc}")
            index.append(f"| {name} | {', '.join(spec.sources)} | {spec.model} | — | skipped: {exc} |")
            continue
        say(f"{name}: {target}/report.md ({time.perf_counter() - t0:.0f} s)")
        state = "converged" if run.summary["chain"]["converged"] else "NOT converged (see its report)"
        if run.summary["p_value"] < POOR_FIT_P:
            state += f"; **poor fit** (P(χ² ≥ {run.summary['chisqr']:.4g}) {_probability(run.summary['p_value'])})"
        labels = ", ".join(d.label for d in run.problem.datasets)
        index.append(f"| [{name}]({name}/report.md) | {labels} | {spec.model} | {run.summary['redchi']:.3g} | "
                     f"{state} |")
    rows = compare(RunSpec(("synthetic-kki-heat-capacity",), values={"xi_c": 1.2}, fixed=("xi_c",))).criteria
    lines = ["# SYNTHETIC c(T) (synthetic-kki-heat-capacity): KKI against STM", "",
             "| model | χ² | points | free | ΔAIC | ΔBIC | Akaike weight |", "|---|---|---|---|---|---|---|"]
    lines += [f"| {r.name} | {r.chisqr:.4g} | {r.n_data} | {r.n_varys} | {r.delta_aic:.2f} | {r.delta_bic:.2f} | "
              f"{r.aic_weight:.3f} |" for r in rows]
    rundir.write_text(out / "compare.md", "\n".join(lines) + "\n")
    index += ["", "Model comparison on the synthetic c(T): [compare.md](compare.md).", "",
              f"Total time {time.perf_counter() - t0:.0f} s."]
    rundir.write_text(out / "README.md", "\n".join(index) + "\n")
    return out


def _version() -> str:
    import glassfit

    return glassfit.__version__


__all__ = ["FAMILIES", "METHODS", "MOVES", "Comparison", "FitRun", "Problem", "RunSpec", "build", "compare", "demo",
           "fit", "load_spec", "model_for", "plot", "report"]
