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
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from glassfit import compare as comparison
from glassfit import evidence, reporting, results, rundir, sampling, summaries
from glassfit.loading import DataError
from glassfit.problem import FAMILIES, Problem, build, find_map, model_for
from glassfit.runspec import METHODS, MOVES, SEARCHES, RunSpec, chain_of, emcee_moves, load_spec, save_spec
from glassfit.summaries import POOR_FIT_P, fit_quality


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
    save_spec(spec, out, command, chain)
    info = None
    if spec.method == "leastsq":
        summary = summaries.clean(summaries.leastsq_summary(problem, spec))
        rundir.write_text(out / "summary.json", json.dumps(summary, indent=2, allow_nan=False))
    else:
        search, start = _previous_search(out) if resume else None, None
        if search is None:
            found = find_map(problem, spec)
            search = summaries.search_doc(found, problem.objective)
            nwalkers = spec.walkers or sampling.default_walkers(problem.objective.ndim)
            start = sampling.initial_walkers(problem.objective, nwalkers, found.theta, found.cov, rng=spec.seed)
        info = sampling.run(problem.objective, chain, max_steps=spec.steps, nwalkers=spec.walkers, seed=spec.seed,
                            resume=resume, processes=spec.processes, converge=spec.until_converged,
                            progress=not quiet and sys.stderr.isatty(), moves=emcee_moves(spec.moves),
                            start=start)
        summary = summaries.posterior_summary(problem, spec, out, chain, search)
    files = reporting.figures(problem, out, summary)
    files.append(reporting.write_report(problem, spec, out, summary, command))
    return FitRun(out, [out / "run.json", out / "summary.json", *([chain] if info else []), *files], problem,
                  summary, info)


def _previous_search(out: Path) -> dict | None:
    """The global-search record of a run being resumed (its walkers started there)."""
    try:
        return json.loads((out / "summary.json").read_text()).get("search")
    except (OSError, ValueError):
        return None


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
    return reporting.write_report(problem, spec, run_dir, summary, command)


def plot(run_dir, power: int | None = None) -> list[Path]:
    """Redraw the figures of a saved run; ``power``: fit figures of y/T^power (None: each observable's view,
    c/T and κ/T²; 0: y itself; 3: c/T³)."""
    run_dir, _, _, summary, problem = _saved_run(run_dir)
    return reporting.figures(problem, run_dir, summary, power)


@dataclass(frozen=True)
class Comparison:
    """:func:`compare`'s result: the AIC/BIC rows (least squares, best first); when sampled, the PSIS-LOO rows
    (family, Δelpd against the best, its standard error), best first; with nested sampling the evidence rows
    (:class:`glassfit.evidence.BayesRow`) and the prior-sensitivity rows; the run directories."""

    criteria: list
    loo: list | None = None
    runs: dict = field(default_factory=dict)
    evidence: list | None = None
    sensitivity: list | None = None
    pair: tuple = ("kki", "stm")             # the models of the sensitivity table's ln B(first : second)

    def table(self) -> str:
        """Plain-text table of every comparison made."""
        lines = [f"{'model':8}{'χ²':>12}{'points':>8}{'free':>6}{'ΔAIC':>9}{'ΔBIC':>9}{'weight':>8}"]
        lines += [f"{r.name:8}{r.chisqr:12.4g}{r.n_data:8d}{r.n_varys:6d}{r.delta_aic:9.2f}{r.delta_bic:9.2f}"
                  f"{r.aic_weight:8.3f}" for r in self.criteria]
        if self.loo:
            lines += ["", f"{'model':8}{'Δelpd_loo':>11}{'± se':>9}   (PSIS-LOO from the posterior draws)"]
            lines += [f"{name:8}{delta:11.2f}{se:9.2f}" for name, delta, se in self.loo]
        if self.evidence:
            lines += ["", f"{'model':8}{'ln Z':>12}{'± err':>8}{'ln B':>9}{'± err':>8}{'H':>7}{'calls':>10}{'time':>8}"
                      "   (nested sampling; ln B = ln Z_best − ln Z; H: nats learnt from the data)"]
            lines += [f"{r.name:8}{r.log_z:12.2f}{r.log_z_err:8.2f}{r.log_b:9.2f}{r.log_b_err:8.2f}"
                      f"{r.information:7.1f}{r.n_calls:10d}{r.elapsed:7.0f}s" for r in self.evidence]
        if self.sensitivity:
            first, second = self.pair
            lines += ["", f"ln B({first} : {second}) with one prior's width scaled (the rest as above):",
                      f"{'parameter':12}{'width':>6}{'ln B':>9}{'± err':>7}  {'prior':30}how"]
            lines += [f"{r.parameter:12}{'×' + format(r.factor, 'g'):>6}{r.log_b:9.2f}{r.log_b_err:7.2f}  "
                      f"{r.priors:30}{r.method}" for r in self.sensitivity]
        return "\n".join(lines)


def compare(spec: RunSpec, families=("kki", "stm"), out=None, quiet: bool = True, loo: bool = False,
            nested: dict | None = None, resume: bool = False, sensitivity: bool = True) -> Comparison:
    """Fit each family to the data of ``spec``: ΔAIC/ΔBIC from least squares; with ``loo`` also PSIS-LOO from
    emcee posteriors (sampled as ``spec`` says; each family's run is written to ``out/<family>/``); with
    ``nested`` (keyword options of :func:`glassfit.evidence.nested`, e.g. ``{"nlive": 400}``) ln Z of each family
    by nested sampling (checkpointed to ``out/<family>/nested.pkl``, continued with ``resume``), Bayes factors,
    PSIS-LOO from the nested posterior draws and, with ``sensitivity``, ln B of the first family against the second
    when each prior's width is doubled and halved; the numbers are written to ``out/evidence.json``."""
    if resume and nested is None:
        raise ValueError("--resume continues nested runs: give --method nested")
    fits, loglik, runs, objectives = {}, {}, {}, {}
    out = Path(out or "glassfit-compare")
    for family in families:
        problem = build(dataclasses.replace(spec, model=family, method="leastsq"))
        found = find_map(problem, spec, use_priors=False)
        s = summaries.statistics(problem, found.theta)
        fits[family] = comparison.FitStatistics(s["chisqr"], s["ndata"], s["nvarys"], s["deviance"])
        objectives[family] = problem.objective
        if loo:
            run = fit(dataclasses.replace(spec, model=family, method="emcee"), out / family, quiet=quiet)
            posterior = results.Posterior.load(chain_of(out / family))
            draws = posterior.samples(max_draws=1000)
            loglik[family] = np.array([run.problem.objective.pointwise_logl(theta) for theta in draws])
            runs[family] = out / family
    bayes = sensitivity_rows = None
    if nested is not None:
        bayes, sensitivity_rows, loglik = _evidence(objectives, out, dict(nested), resume, sensitivity, quiet)
    return Comparison(comparison.information_criteria(fits), comparison.compare_elpd(loglik) if loglik else None,
                      runs, bayes, sensitivity_rows, tuple(families[:2]))


def _evidence(objectives: dict, out: Path, options: dict, resume: bool, sensitivity: bool, quiet: bool):
    """Nested runs of every objective, their Bayes factors, prior sensitivity and the pointwise log-likelihood of
    1000 posterior draws of each (for PSIS-LOO), the numbers written to out/evidence.json."""
    evidence.check_shared_priors(objectives)
    say = (lambda *a: None) if quiet else (lambda *a: print(*a, file=sys.stderr))
    evidences = {}
    for family, objective in objectives.items():
        checkpoint = out / family / "nested.pkl"
        if not resume:
            checkpoint.unlink(missing_ok=True)
            evidence.record_path(checkpoint).unlink(missing_ok=True)
        evidences[family] = evidence.nested(objective, checkpoint=checkpoint, resume=resume and checkpoint.exists(),
                                            progress=not quiet and sys.stderr.isatty(), **options)
        say(f"{family}: ln Z = {evidences[family].log_z:.2f} ± {evidences[family].log_z_err:.2f} "
            f"({evidences[family].n_calls} likelihood calls, {evidences[family].elapsed:.0f} s)")
    rows = evidence.bayes_factors(evidences)
    bounds = [(name, part.params[name]) for o in objectives.values() for part in o.parts for name in o.names
              if name in part.params]
    domains = {name: (max(p.min for n, p in bounds if n == name), min(p.max for n, p in bounds if n == name))
               for name, _ in bounds}                      # where every model is defined
    spread = evidence.prior_sensitivity(objectives, evidences, domains=domains, checkpoint_dir=out / "sensitivity",
                                        resume=resume, **options) if sensitivity else None
    doc = {"evidence": [dataclasses.asdict(r) for r in rows],
           "runs": {family: e.record() for family, e in evidences.items()},
           "sensitivity": None if spread is None else [dataclasses.asdict(r) for r in spread],
           "versions": results.package_versions()}
    rundir.write_text(out / "evidence.json", json.dumps(_strict(doc), indent=2, allow_nan=False))
    loglik = {family: np.array([objectives[family].pointwise_logl(theta) for theta in e.posterior_draws(1000)])
              for family, e in evidences.items()}
    return rows, spread, loglik


def _strict(value):
    """``value`` with every non-finite float (nested in dicts and lists) as None, for strict JSON."""
    if isinstance(value, dict):
        return {k: _strict(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_strict(v) for v in value]
    return None if isinstance(value, float) and not np.isfinite(value) else value


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
            p_text = summaries.probability_text(run.summary["p_value"])
            state += f"; **poor fit** (P(χ² ≥ {run.summary['chisqr']:.4g}) {p_text})"
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


__all__ = ["FAMILIES", "METHODS", "MOVES", "POOR_FIT_P", "SEARCHES", "Comparison", "FitRun", "Problem", "RunSpec",
           "build", "compare", "demo", "find_map", "fit", "fit_quality", "load_spec", "model_for", "plot", "report"]
