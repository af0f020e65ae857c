"""Simulation-based calibration (Talts et al. 2018, arXiv:1804.06788) of glassfit's posteriors: a study kind.

Each replicate draws θ* from the prior, simulates SYNTHETIC data from the models at θ* with Gaussian noise of
known σ, samples the posterior — with glassfit's emcee driver (global-search start, batched walkers; the chain after
burn-in, thinned by its autocorrelation time) or by nested sampling (:func:`glassfit.evidence.nested`, whose live
points cover every mode of the prior support) — and ranks θ* among L posterior draws.  If the sampler
returns the posterior of the stated model, every rank is uniform on {0, …, L}; a U-shaped histogram means
posteriors too narrow, a hump too wide, a slope a bias.  Each replicate also records whether θ* lies in the
central 50/68/95 % intervals and the posterior's contraction 1 − var(post)/var(prior), which says what the data
constrain and what the prior sets (≈ 0: the prior decides).

σ_i = noise · m_i(reference), with the reference the models' defaults (the reference glass) and ``fixed``: the
noise does not depend on θ*, so the known-σ likelihood is exactly the model that generated the data.

The kind's section of a study file (glassfit.study)::

    [sbc]
    draws = 99          # L posterior draws ranked against θ*
    bins = 20           # histogram bins (L + 1 ranks; L + 1 a multiple of bins)
    sampler = "emcee"   # or "nested" (then nlive and proposal = "unif", "rslice", ... of dynesty)
    walkers = 32
    steps = 500         # emcee steps a replicate; the first ``burn`` are dropped
    burn = 150

    [[sbc.case]]        # one cell per case
    name = "kki-heat"
    free = { eta_c = "uniform(0.6, 1.0)", log10_N = "uniform(27.5, 28.0)" }     # free parameters and priors
    tie = { chi_2 = "chi_1" }                     # optional lmfit expressions
    fixed = { w = 22.6 }                          # optional values other than the model's defaults
      [[sbc.case.data]]                           # one or more datasets (several: a joint posterior)
      model = "kki_heat_capacity"                 # a registry id (glassfit models)
      T = { geomspace = [0.05, 0.5, 12] }         # each independent variable: a list, or geomspace/linspace
      noise = 0.02                                # σ relative to the reference curve
      options = {}                                # optional keyword arguments of the model class
                                                  # (the grid and these keys: glassfit.designs)
"""

from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from glassfit import designs

#: central intervals whose coverage each replicate records [%]
LEVELS = (50, 68, 95)
_SETTINGS = {"draws": 99, "bins": 20, "walkers": 32, "steps": 500, "burn": 150, "nlive": 200}
SAMPLERS = ("emcee", "nested")
PROPOSALS = ("unif", "rslice", "rwalk", "slice")
#: equally weighted draws of a nested run from which intervals, means and contractions are taken
NESTED_DRAWS = 4000
_CASE_KEYS = {"name", "free", "tie", "fixed", "data"}


@dataclass(frozen=True)
class Case:
    """One cell: its datasets, free parameters with their prior texts, ties and fixed values."""

    name: str
    parts: tuple[designs.Part, ...]
    free: tuple[tuple[str, str], ...]
    tie: tuple[tuple[str, str], ...] = ()
    fixed: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class Plan:
    """An SBC study: its cases and the sampler settings (module docstring)."""

    cases: tuple[Case, ...]
    draws: int = 99
    bins: int = 20
    walkers: int = 32
    steps: int = 500
    burn: int = 150
    nlive: int = 200
    sampler: str = "emcee"
    proposal: str = "unif"

    @property
    def cells(self) -> list[str]:
        return [case.name for case in self.cases]


def _case(raw: dict) -> Case:
    from glassfit.priors import prior_from_text

    name = raw.get("name") if isinstance(raw, dict) else None
    if not name:
        raise ValueError("[sbc] every [[sbc.case]] needs a name")
    unknown = sorted(set(raw) - _CASE_KEYS)
    if unknown:
        raise ValueError(f"[sbc] case {name!r} has unknown keys {unknown}; known: {sorted(_CASE_KEYS)}")
    free = raw.get("free")
    if not isinstance(free, dict) or not free:
        raise ValueError(f"[sbc] case {name!r}: free = {{NAME = \"prior(...)\", ...}} names the sampled parameters")
    for text in free.values():
        prior_from_text(text)          # a readable error now, not in a worker
    parts = tuple(designs.parse_part(p, f"[sbc] case {name!r}") for p in raw.get("data", ()))
    if not parts:
        raise ValueError(f"[sbc] case {name!r} has no [[sbc.case.data]]")
    known = set().union(*(designs.model_parameters(p) for p in parts))
    if set(free) - known:
        raise ValueError(f"[sbc] case {name!r}: free parameters {sorted(set(free) - known)} are not parameters of "
                         f"its models ({sorted(known)})")
    case = Case(name, parts, tuple(free.items()), tuple(dict(raw.get("tie", {})).items()),
                tuple((k, float(v)) for k, v in dict(raw.get("fixed", {})).items()))
    objective = _objective(case, _reference(case))          # every name checked by building it once
    if sorted(objective.names) != sorted(free):
        raise ValueError(f"[sbc] case {name!r}: the free parameters {sorted(free)} are not what the models sample "
                         f"({sorted(objective.names)})")
    return case


def parse(section: dict, where: Path) -> Plan:
    """The [sbc] section of a study file (module docstring) as a :class:`Plan`; ValueError if malformed."""
    unknown = sorted(set(section) - set(_SETTINGS) - {"case", "sampler", "proposal"})
    if unknown:
        raise ValueError(f"[sbc] has unknown keys {unknown}; known: {sorted(_SETTINGS)} and [[sbc.case]]")
    settings = designs.settings(section, _SETTINGS, "[sbc]")
    for key, default, allowed in (("sampler", "emcee", SAMPLERS), ("proposal", "unif", PROPOSALS)):
        settings[key] = section.get(key, default)
        if settings[key] not in allowed:
            raise ValueError(f"[sbc] {key} must be one of {allowed}, got {settings[key]!r}")
    if (settings["draws"] + 1) % settings["bins"]:
        raise ValueError(f"[sbc] draws + 1 = {settings['draws'] + 1} ranks must be a multiple of bins = "
                         f"{settings['bins']}")
    if settings["burn"] >= settings["steps"]:
        raise ValueError(f"[sbc] burn = {settings['burn']} must be below steps = {settings['steps']}")
    cases = tuple(_case(raw) for raw in section.get("case", ()))
    if not cases:
        raise ValueError("[sbc] declares no [[sbc.case]]")
    names = [c.name for c in cases]
    if len(set(names)) != len(names):
        raise ValueError(f"[sbc] case names must be distinct, got {names}")
    return Plan(cases, **settings)


# ---------------------------------------------------------------- one replicate
def _params(case: Case, part: designs.Part, values: dict):
    model = designs.model(part)
    return model, designs.parameters(model, dict(case.free), case.tie, {**dict(case.fixed), **values})


@cache
def _reference(case: Case) -> tuple[np.ndarray, ...]:
    """m_i(reference) of every part: the scale of its σ."""
    return tuple(designs.model(p).eval(_params(case, p, {})[1], **designs.points(p)) for p in case.parts)


def _priors(case: Case) -> dict:
    from glassfit.priors import prior_from_text

    return {name: prior_from_text(text) for name, text in case.free}


def _objective(case: Case, ys, truth: dict | None = None):
    from glassfit.dataset import Dataset
    from glassfit.objective import JointObjective, Objective

    priors, parts = _priors(case), []
    for k, (part, y, ref) in enumerate(zip(case.parts, ys, _reference(case), strict=True)):
        model, params = _params(case, part, {})
        data = Dataset(designs.points(part), y, part.noise * np.abs(ref), id=f"{case.name}-{k}-{part.model}",
                       observable="", nature="synthetic", true_params=truth)
        own = {n: prior for n, prior in priors.items() if n in params and params[n].vary}
        parts.append(Objective(model, data, params=params, priors=own))
    return parts[0] if len(parts) == 1 else JointObjective(parts, priors=priors)


def simulate(case: Case, rng) -> tuple[dict, list[np.ndarray]]:
    """θ* from the case's priors and SYNTHETIC data of every part at θ* (σ on the reference curve)."""
    truth = {name: float(prior.rvs(rng=rng)) for name, prior in _priors(case).items()}
    ys = []
    for part, ref in zip(case.parts, _reference(case), strict=True):
        model, params = _params(case, part, truth)
        noise = part.noise * np.abs(ref) * rng.standard_normal(ref.shape)
        ys.append(model.eval(params, **designs.points(part)) + noise)
    return truth, ys


def run_replicate(plan: Plan, cell: int, seed: np.random.SeedSequence) -> dict:
    """One SBC replicate of case ``cell``: truth, rank among ``plan.draws`` draws, interval coverage, posterior
    mean, sd and contraction of every free parameter, and the chain's τ_max, thinning and acceptance (emcee) or
    the likelihood calls (nested)."""
    case = plan.cases[cell]
    data_seed, chain_seed, pick_seed = designs.children(seed, 3)
    truth, ys = simulate(case, np.random.default_rng(data_seed))
    objective = _objective(case, ys, truth)
    if plan.sampler == "nested":
        from glassfit import evidence

        found = evidence.nested(objective, nlive=plan.nlive, sample=plan.proposal,
                                seed=int(chain_seed.generate_state(1)[0]))
        samples = found.posterior_draws(NESTED_DRAWS, seed=pick_seed)
        return _ranked(objective, truth, samples[:plan.draws], samples, {"n_calls": found.n_calls})
    draws, samples, row = _emcee_draws(plan, objective, chain_seed, pick_seed)
    return _ranked(objective, truth, draws, samples, row)


def _emcee_draws(plan: Plan, objective, chain_seed, pick_seed):
    """L draws of the chain after burn-in thinned by τ (at least L), all its samples, and its diagnostics."""
    import emcee

    from glassfit import sampling

    with tempfile.TemporaryDirectory() as tmp:
        info = sampling.run(objective, Path(tmp) / "chain.h5", max_steps=plan.steps, nwalkers=plan.walkers,
                            seed=int(chain_seed.generate_state(1)[0]), converge=False)
        chain = emcee.backends.HDFBackend(str(info.path), read_only=True).get_chain()[plan.burn:]
    tau = sampling.autocorr_time(chain)
    tau_max = float(np.max(tau)) if tau is not None else math.nan
    # thin by τ, but keep at least L draws
    most = max(1, len(chain) // math.ceil(plan.draws / plan.walkers))
    thin = max(1, min(math.ceil(tau_max) if math.isfinite(tau_max) else most, most))
    thinned = chain[::thin].reshape(-1, objective.ndim)
    draws = thinned[np.random.default_rng(pick_seed).choice(len(thinned), plan.draws, replace=False)]
    return draws, chain.reshape(-1, objective.ndim), {"tau_max": tau_max, "thin": thin, "acceptance": info.acceptance}


def _ranked(objective, truth, draws, samples, row):
    """``row`` with every free parameter's truth, rank among ``draws``, coverage, mean, sd and contraction."""
    priors = objective.priors
    for k, name in enumerate(objective.names):
        x = samples[:, k]
        row[f"truth[{name}]"] = truth[name]
        row[f"rank[{name}]"] = int(np.sum(draws[:, k] < truth[name]))
        for level in LEVELS:
            lo, hi = np.percentile(x, [50 - level / 2, 50 + level / 2])
            row[f"in{level}[{name}]"] = float(lo <= truth[name] <= hi)
        row[f"mean[{name}]"], row[f"sd[{name}]"] = float(np.mean(x)), float(np.std(x))
        row[f"contraction[{name}]"] = 1.0 - float(np.var(x)) / priors[name].std**2
    return row


# ---------------------------------------------------------------- rank statistics
def ecdf_band(n: int, draws: int, alpha: float = 0.05, simulations: int = 4000, seed: int = 0):
    """Simultaneous 1 − ``alpha`` band of the ECDF difference of ``n`` ranks uniform on {0, …, ``draws``}
    (Säilynoja, Bürkner & Vehtari 2022, Stat. Comput. 32:32, the simulation method).

    Returns (z, lower, upper, gamma): the evaluation points z_k = (k + 1)/(L + 1), k = 0 … L − 1, the band of
    F̂(z_k) − z_k, and the pointwise level γ whose binomial intervals hold a whole uniform ECDF with probability
    1 − alpha.  The ranks are inside the band iff :func:`ecdf_statistic` ≥ γ.
    """
    from scipy import stats

    z = np.arange(1, draws + 1) / (draws + 1)
    ranks = np.random.default_rng(seed).integers(0, draws + 1, size=(simulations, n))
    gamma = float(np.quantile(_pointwise_min(ranks, draws), alpha))
    lower = stats.binom.ppf(gamma / 2, n, z) / n - z
    upper = stats.binom.ppf(1 - gamma / 2, n, z) / n - z
    return z, lower, upper, gamma


def _pointwise_min(ranks, draws: int) -> np.ndarray:
    """Per row of ``ranks``: min over z_k of the two-sided binomial tail probability of its ECDF count."""
    from scipy import stats

    ranks = np.atleast_2d(ranks)
    n = ranks.shape[1]
    z = np.arange(1, draws + 1) / (draws + 1)
    counts = np.stack([np.sum(ranks <= k, axis=1) for k in range(draws)], axis=1)
    tails = 2 * np.minimum(stats.binom.cdf(counts, n, z), stats.binom.sf(counts - 1, n, z))
    return np.min(np.minimum(tails, 1.0), axis=1)


def ecdf_statistic(ranks, draws: int) -> float:
    """The smallest pointwise two-sided binomial tail probability of the ECDF of ``ranks`` (compare with γ)."""
    return float(_pointwise_min(np.asarray(ranks, dtype=int), draws)[0])


def summary_table(plan: Plan, tables: dict[str, pd.DataFrame], alpha: float = 0.05) -> pd.DataFrame:
    """One row per (case, parameter): replicates, χ² p-value of the rank histogram, whether the rank ECDF stays
    inside its simultaneous 1 − alpha band, interval coverages, mean contraction and the share of chains
    thinned by less than their τ."""
    from scipy import stats

    rows = []
    for case, table in tables.items():
        n = len(table)
        gamma = ecdf_band(n, plan.draws, alpha)[3]
        for column in [c for c in table if c.startswith("rank[")]:
            name = column[5:-1]
            ranks = table[column].to_numpy(dtype=int)
            counts = np.bincount(ranks // ((plan.draws + 1) // plan.bins), minlength=plan.bins)
            row = {"case": case, "parameter": name, "replicates": n,
                   "rank_chi2_p": float(stats.chisquare(counts).pvalue),
                   "ecdf_inside_band": bool(ecdf_statistic(ranks, plan.draws) >= gamma)}
            for level in LEVELS:
                row[f"coverage_{level}"] = float(table[f"in{level}[{name}]"].mean())
            row["contraction"] = float(table[f"contraction[{name}]"].mean())
            row["thinned_below_tau"] = (float(np.mean(table["thin"] < np.ceil(table["tau_max"])))
                                        if "thin" in table else math.nan)
            rows.append(row)
    return pd.DataFrame(rows)


def plot(plan: Plan, tables: dict[str, pd.DataFrame], alpha: float = 0.05):
    """Figure: per case a row of rank histograms (grey: the central 99 % band of a bin count under
    uniformity) and the ECDF difference of every parameter with its simultaneous 1 − alpha band."""
    import matplotlib.pyplot as plt
    from scipy import stats

    width = max(sum(1 for c in t if c.startswith("rank[")) for t in tables.values()) + 1
    fig, axes = plt.subplots(len(tables), width, figsize=(2.6 * width, 2.3 * len(tables)), squeeze=False,
                             constrained_layout=True)
    per_bin = (plan.draws + 1) // plan.bins
    for row, (case, table) in zip(axes, tables.items(), strict=True):
        n = len(table)
        names = [c[5:-1] for c in table if c.startswith("rank[")]
        lo, hi = stats.binom.ppf([0.005, 0.995], n, 1 / plan.bins)
        for ax, name in zip(row, names, strict=False):
            ranks = table[f"rank[{name}]"].to_numpy(dtype=int)
            ax.axhspan(lo, hi, color="0.88")
            ax.axhline(n / plan.bins, color="0.5", lw=0.8)
            ax.hist(ranks, bins=np.arange(plan.bins + 1) * per_bin - 0.5, color="C0", alpha=0.8)
            ax.set_title(f"{case}: {name}", fontsize=8)
            ax.set_xlabel(f"rank of θ* among L = {plan.draws} draws", fontsize=7)
            ax.tick_params(labelsize=7)
        row[0].set_ylabel(f"replicates (of {n})", fontsize=7)
        for ax in row[len(names):-1]:
            ax.axis("off")
        ax = row[-1]
        z, lower, upper, gamma = ecdf_band(n, plan.draws, alpha)
        ax.fill_between(z, lower, upper, step="post", color="0.88", label=f"{1 - alpha:.0%} simultaneous band")
        outside = []
        for name in names:
            ranks = table[f"rank[{name}]"].to_numpy(dtype=int)
            ecdf = np.array([np.mean(ranks <= k) for k in range(plan.draws)])
            ax.step(z, ecdf - z, where="post", lw=1, label=name)
            outside += [name] if ecdf_statistic(ranks, plan.draws) < gamma else []
        ax.axhline(0, color="0.5", lw=0.8)
        verdict = f"outside: {', '.join(outside)}" if outside else "inside the band"
        ax.set_title(f"{case}: ECDF − uniform\n{verdict}", fontsize=8)
        ax.set_xlabel("fractional rank", fontsize=7)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=6)
    fig.suptitle("Simulation-based calibration on SYNTHETIC data (θ* drawn from the priors)", fontsize=9)
    return fig


def summarize(plan: Plan, tables: dict[str, pd.DataFrame]):
    """(:func:`summary_table`, :func:`plot`) of a study's results."""
    return summary_table(plan, tables), plot(plan, tables)


__all__ = ["LEVELS", "Case", "Plan", "ecdf_band", "ecdf_statistic", "parse", "plot", "run_replicate",
           "simulate", "summarize", "summary_table"]
