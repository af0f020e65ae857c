"""What ``summary.json`` of a run holds: the fit statistics, the global search, what the data constrain, derived
quantities, validity warnings and data flags, for a least-squares fit or an emcee posterior.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
from scipy.stats import chi2 as chi2_distribution

from glassfit import checks, identifiability, optimize, results, rundir
from glassfit import compare as comparison
from glassfit.problem import Problem, find_map
from glassfit.runspec import RunSpec

NOISE_TEXT = {
    "known": "σ as given in the data (noise model `known`): errors are not rescaled by χ²_ν",
    "scaled": "σ scaled by a fitted factor per dataset (noise model `scaled`)",
    "fitted": "a fitted relative σ per dataset (noise model `fitted`)",
    "absolute": "a fitted σ per dataset, the same for its every point (noise model `absolute`)",
}


def noise_text(spec: RunSpec) -> str:
    """How the errors' σ is set: the run's noise model and the datasets that have their own."""
    own = "; ".join(f"{name}: {NOISE_TEXT[noise]}" for name, noise in spec.noise_of.items())
    return NOISE_TEXT[spec.noise] + (f" (except {own})" if own else "")


def search_doc(found: optimize.MapResult, objective, limit: int = 8) -> dict:
    """The global search as JSON: method, evaluations, time and the best ``limit`` distinct optima."""
    return {"method": found.method, "n_evaluations": found.n_evaluations, "seconds": found.elapsed,
            "optima": [{"chisqr": o.chisqr, "prior_penalty": o.prior_penalty, "hits": o.hits,
                        "theta": dict(zip(objective.names, o.theta.tolist(), strict=True))}
                       for o in found.optima[:limit]],
            "n_optima": len(found.optima)}


#: other optima whose Φ (−2 ln posterior up to a constant) lies within this of the best's count as competing modes
COMPETING_PHI = 10.0


def competing_optima(search: dict | None) -> list[str]:
    """One flag line if the global search found other optima within :data:`COMPETING_PHI` of the best: a posterior
    of several modes, which emcee's walkers (started at the best) seldom cross and the Laplace errors ignore."""
    optima = (search or {}).get("optima", [])
    phi = [o["chisqr"] + o["prior_penalty"] for o in optima]
    close = [p - phi[0] for p in phi[1:] if p - phi[0] < COMPETING_PHI]
    if not close:
        return []
    return [f"the global search found {len(close)} other optim{'um' if len(close) == 1 else 'a'} within ΔΦ = "
            f"{max(close):.3g} of the best (Φ = −2 ln posterior + const; report.md lists them): the posterior may "
            "have several modes, which emcee's walkers, started at the best, seldom cross, and the Laplace errors "
            "describe the best alone (simulation-based calibration of KKI c(T) showed emcee missing the other mode, "
            "README); weigh the modes by nested sampling (glassfit compare --method nested)"]


def statistics(problem: Problem, theta) -> dict:
    """χ², points, free parameters, χ²_ν, the deviance −2 ln L (σ fitted; else None), AIC, BIC and
    P(χ² ≥ observed) at θ, under the stated noise model (:class:`glassfit.compare.FitStatistics`)."""
    objective = problem.objective
    chisqr = float(np.sum(objective.residuals(theta) ** 2))
    n = int(sum(d.n for d in problem.datasets))
    fitted_noise = any(part.noise_name for part in objective.parts)
    deviance = -2.0 * float(objective.logl(theta)) if fitted_noise else None
    stats = comparison.FitStatistics(chisqr, n, objective.ndim, deviance)
    dof = max(n - objective.ndim, 1)
    return {"chisqr": chisqr, "ndata": n, "nvarys": objective.ndim, "redchi": chisqr / dof, "deviance": deviance,
            "aic": stats.aic, "bic": stats.bic, "p_value": float(chi2_distribution.sf(chisqr, dof))}


def diagnostics(problem: Problem, theta, cov=None, draws=None) -> dict:
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


def leastsq_summary(problem: Problem, spec: RunSpec) -> dict:
    """summary.json of a least-squares run: the global-search MAP, Laplace errors, statistics, diagnostics."""
    objective = problem.objective
    found = find_map(problem, spec)
    theta, cov = found.theta, found.cov
    units = objective.units()
    errors = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    summary = {"method": "leastsq", "theta": theta.tolist(),
               "parameters": [{"name": name, "unit": units[name], "value": float(v), "stderr": float(e)}
                              for name, v, e in zip(objective.names, theta, errors, strict=True)],
               **statistics(problem, theta), "prior_penalty": found.best.prior_penalty,
               "noise": spec.noise, "errors": "Laplace approximation at the MAP; " + noise_text(spec),
               "search": search_doc(found, objective),
               "priors": objective.prior_descriptions(),
               "datasets": [{"name": d.id, "points": d.n, "sha256": d.sha256, "nature": d.nature}
                            for d in problem.datasets]}
    summary.update(diagnostics(problem, theta, cov=cov))
    summary["flags"] += competing_optima(summary["search"])
    return summary


def posterior_summary(problem: Problem, spec: RunSpec, out: Path, chain: Path, search: dict | None) -> dict:
    """summary.json of an emcee run: posterior quantiles, convergence, statistics at the MAP sample, diagnostics
    (written to ``out``)."""
    objective = problem.objective
    posterior = results.Posterior.load(chain)
    derived = results.derived(posterior, objective)
    summary = results.summarize(posterior, objective, derived_values=derived)
    results.save_summary(summary, objective, out / "summary.json", posterior)
    doc = results.load_summary(out / "summary.json")
    theta = posterior.map()
    doc.update({"method": "emcee", "noise": spec.noise,
                "errors": "posterior 16/84 % quantiles; " + noise_text(spec),
                "search": search, **statistics(problem, theta)})
    doc.update(diagnostics(problem, theta, draws=posterior.samples(max_draws=max(200, posterior.nwalkers))))
    doc["flags"] += competing_optima(search)
    doc = clean(doc)
    rundir.write_text(out / "summary.json", json.dumps(doc, indent=2, allow_nan=False))
    return doc


def clean(obj):
    """``obj`` with every non-finite float replaced by None (strict JSON)."""
    if isinstance(obj, dict):
        return {k: clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [clean(v) for v in obj]
    if isinstance(obj, float | np.floating):
        return float(obj) if math.isfinite(obj) else None
    return obj


#: a χ² this improbable under the stated noise model makes a fit "poor"
POOR_FIT_P = 1e-3


def fit_quality(summary: dict) -> str:
    """One sentence: P(χ² ≥ the observed χ²) under the stated noise model, and whether the fit is poor (or, with σ
    fitted, that χ² cannot say)."""
    p = summary.get("p_value")
    if p is None:
        return ""
    if summary.get("deviance") is not None:
        return (f"σ is fitted, so χ² ≈ n by construction and P(χ² ≥ {summary['chisqr']:.4g}) says nothing of the fit "
                f"(judge it by the fitted σ and the residuals); AIC and BIC use −2 ln L = {summary['deviance']:.5g}.")
    verdict = (" — **a poor fit**: the model does not describe these data within their σ" if p < POOR_FIT_P else "")
    return (f"Goodness of fit: P(χ² ≥ {summary['chisqr']:.4g}) {probability_text(p)} under the stated noise "
            f"model{verdict}.")


def probability_text(p: float) -> str:
    """``= p`` to two digits, or ``< 1e-300`` when p underflows."""
    return f"= {p:.2g}" if p > 0 else "< 1e-300"


__all__ = ["COMPETING_PHI", "NOISE_TEXT", "POOR_FIT_P", "clean", "competing_optima", "diagnostics", "fit_quality",
           "leastsq_summary", "posterior_summary", "probability_text", "search_doc", "statistics"]
