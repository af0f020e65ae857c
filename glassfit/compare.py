"""Model comparison: information criteria from least squares, PSIS-LOO and WAIC from posteriors.

* :func:`information_criteria` — AIC, BIC and their differences and weights for lmfit results fitted to
  the same data (χ² with the data's σ; lmfit's ``aic``/``bic``).
* :func:`loo` / :func:`waic` / :func:`compare_elpd` — Pareto-smoothed importance-sampling leave-one-out
  and WAIC (ArviZ) from per-point log-likelihoods of posterior draws, shaped (chains, draws, points) or
  (draws, points).  These need the posterior samples of the inference layer.

Positive ΔBIC of a model against the best means evidence against it: 2–6 positive, 6–10 strong,
> 10 very strong (Kass & Raftery 1995).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class CriterionRow:
    """One model's information criteria relative to the best (lowest) of the set."""

    name: str
    chisqr: float
    n_data: int
    n_varys: int
    aic: float
    bic: float
    delta_aic: float
    delta_bic: float
    aic_weight: float


@dataclass(frozen=True)
class FitStatistics:
    """χ² (with the data's σ), number of points and of free parameters of a fit; AIC = χ² + 2k and
    BIC = χ² + k ln n (Gaussian likelihood with known σ, up to a constant shared by every model)."""

    chisqr: float
    ndata: int
    nvarys: int

    @property
    def aic(self) -> float:
        return self.chisqr + 2.0 * self.nvarys

    @property
    def bic(self) -> float:
        return self.chisqr + self.nvarys * np.log(self.ndata)


def information_criteria(results: dict) -> list[CriterionRow]:
    """AIC/BIC table of fits to the same data, best first: lmfit ``ModelResult``/``MinimizerResult`` objects or
    :class:`FitStatistics` (anything with ``chisqr``, ``ndata``, ``nvarys``, ``aic`` and ``bic``)."""
    if len(results) < 2:
        raise ValueError("model comparison needs at least two fitted models")
    n_data = {r.ndata for r in results.values()}
    if len(n_data) != 1:
        raise ValueError(f"the models were fitted to different numbers of points: {sorted(n_data)}")
    aic = {name: float(r.aic) for name, r in results.items()}
    bic = {name: float(r.bic) for name, r in results.items()}
    best_aic, best_bic = min(aic.values()), min(bic.values())
    weights = {name: np.exp(-0.5 * (a - best_aic)) for name, a in aic.items()}
    norm = sum(weights.values())
    rows = [CriterionRow(name, float(r.chisqr), int(r.ndata), int(r.nvarys), aic[name], bic[name],
                         aic[name] - best_aic, bic[name] - best_bic, weights[name] / norm)
            for name, r in results.items()]
    return sorted(rows, key=lambda row: row.bic)


def _idata(log_likelihood):
    import arviz

    arr = np.asarray(log_likelihood, float)
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3:
        raise ValueError(f"log_likelihood must be (chains, draws, points) or (draws, points), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("log_likelihood must be finite")
    return arviz.from_dict(log_likelihood={"y": arr}, posterior={"_": np.zeros(arr.shape[:2])})


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        # ArviZ warns about Pareto k and its own deprecations; the k values are returned to the caller
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


@dataclass(frozen=True)
class ElpdEstimate:
    """Expected log pointwise predictive density with its standard error and effective parameters."""

    elpd: float
    se: float
    p_eff: float
    pareto_k_max: float | None      # PSIS-LOO only; > 0.7 marks unreliable points


def loo(log_likelihood) -> ElpdEstimate:
    """PSIS-LOO (Vehtari, Gelman & Gabry 2017, via ArviZ) from per-point log-likelihood draws."""
    import arviz

    res = _quiet(arviz.loo, _idata(log_likelihood), pointwise=True)
    return ElpdEstimate(float(res["elpd_loo"]), float(res["se"]), float(res["p_loo"]),
                        float(np.max(res["pareto_k"])))


def waic(log_likelihood) -> ElpdEstimate:
    """WAIC (Watanabe 2010, via ArviZ) from per-point log-likelihood draws."""
    import arviz

    res = _quiet(arviz.waic, _idata(log_likelihood))
    return ElpdEstimate(float(res["elpd_waic"]), float(res["se"]), float(res["p_waic"]), None)


def compare_elpd(log_likelihoods: dict) -> list[tuple[str, float, float]]:
    """(name, Δelpd_loo against the best, SE of the difference), best first, from PSIS-LOO pointwise values."""
    import arviz

    if len(log_likelihoods) < 2:
        raise ValueError("model comparison needs at least two models")
    pointwise = {name: _quiet(arviz.loo, _idata(ll), pointwise=True)["loo_i"].values
                 for name, ll in log_likelihoods.items()}
    sizes = {v.size for v in pointwise.values()}
    if len(sizes) != 1:
        raise ValueError("the log-likelihoods must cover the same data points")
    best = max(pointwise, key=lambda k: pointwise[k].sum())
    rows = []
    for name, values in pointwise.items():
        diff = pointwise[best] - values
        rows.append((name, -float(diff.sum()), float(np.sqrt(diff.size * np.var(diff)))))
    return sorted(rows, key=lambda row: -row[1])


__all__ = ["CriterionRow", "ElpdEstimate", "FitStatistics", "compare_elpd", "information_criteria", "loo", "waic"]
