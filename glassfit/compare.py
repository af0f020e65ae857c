"""Model comparison: information criteria from least squares, PSIS-LOO and WAIC from posteriors.

* :func:`information_criteria` — AIC, BIC and their differences and weights for lmfit results fitted to
  the same data (χ² with the data's σ; lmfit's ``aic``/``bic``).
* :func:`loo` / :func:`waic` / :func:`compare_elpd` — Pareto-smoothed importance-sampling leave-one-out
  (arviz-stats) and WAIC (computed here) from per-point log-likelihoods of posterior draws, shaped
  (chains, draws, points) or (draws, points).  These need the posterior samples of the inference layer.

Positive ΔBIC of a model against the best means evidence against it: 2–6 positive, 6–10 strong,
> 10 very strong (Kass & Raftery 1995).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
from scipy.special import logsumexp


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
    """χ² (with the data's σ), number of points and of free parameters of a fit, and the deviance −2 ln L_max
    where σ is fitted.  AIC = D + 2k and BIC = D + k ln n with D = χ² for known σ (the Gaussian −2 ln L up to a
    constant shared by every model), and D = ``deviance`` when the noise model fits σ: then χ² ≈ n for every
    model and the fitted −Σ ln s_i is what tells them apart."""

    chisqr: float
    ndata: int
    nvarys: int
    deviance: float | None = None

    @property
    def aic(self) -> float:
        return (self.chisqr if self.deviance is None else self.deviance) + 2.0 * self.nvarys

    @property
    def bic(self) -> float:
        return (self.chisqr if self.deviance is None else self.deviance) + self.nvarys * np.log(self.ndata)


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


def _draws(log_likelihood) -> np.ndarray:
    """The log-likelihood as (draws, points), chains pooled; ValueError on a bad shape or non-finite values."""
    arr = np.asarray(log_likelihood, float)
    if arr.ndim not in (2, 3):
        raise ValueError(f"log_likelihood must be (chains, draws, points) or (draws, points), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("log_likelihood must be finite")
    return arr.reshape(-1, arr.shape[-1])


def _se(elpd_i) -> float:
    """√(n var elpd_i), the variance over the n points with 1/n as in ArviZ 0.x and arviz-stats 0.x (arviz-stats 1.x
    and R's loo divide by n − 1, a factor √(n/(n − 1)) on the se): glassfit's numbers do not depend on the version."""
    return float(np.sqrt(elpd_i.size * np.var(elpd_i)))


@dataclass(frozen=True)
class ElpdEstimate:
    """Expected log pointwise predictive density with its standard error and effective parameters."""

    elpd: float
    se: float
    p_eff: float
    pareto_k_max: float | None      # PSIS-LOO only; above min(1 − 1/log10 S, 0.7) for S draws marks unreliable points
    elpd_i: np.ndarray = field(repr=False, compare=False)      # pointwise elpd, one value per data point


def loo(log_likelihood) -> ElpdEstimate:
    """PSIS-LOO (Vehtari, Gelman & Gabry 2017; Vehtari et al. 2024; via arviz-stats) from per-point log-likelihood
    draws, taken as independent (relative efficiency 1): elpd_loo, its se, p_loo, the largest Pareto k and the
    pointwise elpd.  ArviZ's warning on large k is silenced, as the largest k is returned."""
    import arviz_base
    import arviz_stats

    tree = arviz_base.from_dict({"log_likelihood": {"y": _draws(log_likelihood)[None]}})
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Estimated shape parameter of Pareto distribution", UserWarning)
        res = arviz_stats.loo(tree, pointwise=True, reff=1.0)
    elpd_i = res.elpd_i.values
    return ElpdEstimate(float(elpd_i.sum()), _se(elpd_i), float(res.p), float(res.pareto_k.max()), elpd_i)


def waic(log_likelihood) -> ElpdEstimate:
    """WAIC (Watanabe 2010; Vehtari, Gelman & Gabry 2017) from per-point log-likelihood draws: per point
    lppd_i = ln mean_s p(y_i|θ_s) and p_i = var_s ln p(y_i|θ_s), elpd_i = lppd_i − p_i; returns elpd = Σ elpd_i,
    its se (as for :func:`loo`) and p_eff = Σ p_i.  var_s divides by the S draws, as ArviZ 0.x did (R's loo divides
    by S − 1)."""
    ll = _draws(log_likelihood)
    p_i = ll.var(axis=0)
    elpd_i = logsumexp(ll, axis=0) - np.log(len(ll)) - p_i
    return ElpdEstimate(float(elpd_i.sum()), _se(elpd_i), float(p_i.sum()), None, elpd_i)


def compare_elpd(log_likelihoods: dict) -> list[tuple[str, float, float]]:
    """(name, Δelpd_loo against the best, SE of the difference), best first, from PSIS-LOO pointwise values."""
    if len(log_likelihoods) < 2:
        raise ValueError("model comparison needs at least two models")
    pointwise = {name: loo(ll).elpd_i for name, ll in log_likelihoods.items()}
    if len({v.size for v in pointwise.values()}) != 1:
        raise ValueError("the log-likelihoods must cover the same data points")
    best = max(pointwise, key=lambda k: pointwise[k].sum())
    rows = []
    for name, values in pointwise.items():
        diff = values - pointwise[best]
        rows.append((name, float(diff.sum()), _se(diff)))
    return sorted(rows, key=lambda row: -row[1])


__all__ = ["CriterionRow", "ElpdEstimate", "FitStatistics", "compare_elpd", "information_criteria", "loo", "waic"]
