"""Posterior results: load a chain, summarise it, propagate derived parameters, save JSON, convert to ArviZ's DataTree.

A :class:`Posterior` is the chain written by :func:`glassfit.sampling.run` (emcee's HDF5 backend).
:func:`summarize` gives, per parameter, the median and 16/84 % quantiles, the maximum-a-posteriori
sample, the autocorrelation time τ, N/τ, the effective sample size n_walkers (N − burn)/τ and split-R̂
(four half-chains: two walker halves × two time halves), plus the acceptance fraction.  Failing
diagnostics give NaN, never an exception.  :func:`save_summary` writes the summary with names, units,
priors, data sha256, package versions and seed, for citing and reproducing the run.
"""

from __future__ import annotations

import json
import platform
from dataclasses import asdict, dataclass
from pathlib import Path

import emcee
import numpy as np

from glassfit.rundir import write_text
from glassfit.sampling import ChainMeta, autocorr_time, fingerprint


@dataclass(frozen=True)
class Posterior:
    """A sampled chain: ``chain`` (steps, walkers, ndim), ``log_prob`` (steps, walkers), per-walker acceptance."""

    names: list[str]
    chain: np.ndarray
    log_prob: np.ndarray
    acceptance: np.ndarray
    n_nonfinite: int
    seed: int | None
    fingerprint: str
    path: Path | None = None
    converged: bool = False         # :func:`glassfit.sampling.is_converged` at the sampler's last check

    @classmethod
    def load(cls, path) -> Posterior:
        """Read a chain file written by :func:`glassfit.sampling.run`: the chain through emcee's HDF5 backend
        (read-only) and glassfit's record (:class:`glassfit.sampling.ChainMeta`); ValueError if it is not one."""
        path = Path(path)
        backend = emcee.backends.HDFBackend(str(path), read_only=True)
        meta = ChainMeta.read(backend)
        try:
            n = int(backend.iteration)
        except KeyError:
            raise ValueError(f"{path} is not a glassfit chain file (no emcee chain in it)") from None
        if n == 0:
            raise ValueError(f"{path} holds no steps yet")
        return cls(meta.names, backend.get_chain(), backend.get_log_prob(), backend.accepted / n, meta.n_nonfinite,
                   meta.seed, meta.fingerprint, path, meta.converged)

    @property
    def nsteps(self) -> int:
        return self.chain.shape[0]

    @property
    def nwalkers(self) -> int:
        return self.chain.shape[1]

    @property
    def tau(self) -> np.ndarray | None:
        """Integrated autocorrelation time per parameter [steps], None if it cannot be estimated."""
        return autocorr_time(self.chain)

    def burn_in(self) -> int:
        """Steps discarded by default: 2 τ_max, at most half the chain (half the chain without τ)."""
        tau = self.tau
        return self.nsteps // 2 if tau is None else min(int(np.ceil(2 * np.max(tau))), self.nsteps // 2)

    def samples(self, discard: int | None = None, max_draws: int | None = None) -> np.ndarray:
        """Flat (draws, ndim) samples after ``discard`` steps (default :meth:`burn_in`), every walker; at most
        ``max_draws`` evenly spaced draws."""
        return self._subchain(discard, max_draws).reshape(-1, len(self.names))

    def _subchain(self, discard, max_draws):
        """(steps, walkers, ndim) after ``discard``, thinned in steps so that steps × walkers ≤ ``max_draws``."""
        discard = self.burn_in() if discard is None else int(discard)
        if not 0 <= discard < self.nsteps:
            raise ValueError(f"discard must be in [0, {self.nsteps}), got {discard}")
        sub = self.chain[discard:]
        if max_draws is not None:
            if max_draws < self.nwalkers:
                raise ValueError(f"max_draws must be ≥ the number of walkers {self.nwalkers}, got {max_draws}")
            steps = min(len(sub), max_draws // self.nwalkers)
            sub = sub[np.linspace(0, len(sub) - 1, steps).round().astype(int)]
        return sub

    def map(self) -> np.ndarray:
        """The sample of highest log-posterior (maximum a posteriori within the chain)."""
        step, walker = np.unravel_index(np.argmax(self.log_prob), self.log_prob.shape)
        return self.chain[step, walker]

    def check(self, objective):
        """ValueError unless this chain samples ``objective``'s posterior (same parameter names and data)."""
        if self.fingerprint != fingerprint(objective):
            raise ValueError(f"the chain ({self.names}) was not sampled from this objective ({objective.names}) "
                             "or its data changed")


def split_rhat(chain: np.ndarray) -> np.ndarray:
    """Split-R̂ per parameter of a (steps, walkers, ndim) chain: four 'chains' = two walker halves × two time
    halves, each pooled over its walkers (Gelman et al. 2013, BDA3 §11.4)."""
    steps, walkers, ndim = chain.shape
    half_t, half_w = steps // 2, walkers // 2
    if half_t < 2 or half_w < 1:
        return np.full(ndim, np.nan)
    parts = [chain[t * half_t:(t + 1) * half_t, w * half_w:(w + 1) * half_w].reshape(-1, ndim)
             for t in (0, 1) for w in (0, 1)]
    n = parts[0].shape[0]
    means = np.array([p.mean(axis=0) for p in parts])
    within = np.mean([p.var(axis=0, ddof=1) for p in parts], axis=0)
    between = n * means.var(axis=0, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.sqrt(((n - 1) / n * within + between / n) / within)


@dataclass(frozen=True)
class ParameterSummary:
    """One row of a posterior summary (unit of the parameter; τ, N/τ in steps; ess in independent draws)."""

    name: str
    unit: str
    median: float
    q16: float
    q84: float
    map: float
    tau: float
    n_over_tau: float
    ess: float
    rhat: float


@dataclass(frozen=True)
class Summary:
    """Posterior summary: one :class:`ParameterSummary` per free (then derived) parameter and chain diagnostics."""

    parameters: list[ParameterSummary]
    nsteps: int
    nwalkers: int
    burn_in: int
    acceptance: float
    n_nonfinite: int
    seed: int | None
    converged: bool = False         # the sampler's verdict (glassfit.sampling.is_converged), the only one used

    def __getitem__(self, name) -> ParameterSummary:
        for row in self.parameters:
            if row.name == name:
                return row
        raise KeyError(f"no parameter {name!r}; the summary has {[r.name for r in self.parameters]}")

    def table(self) -> str:
        """Plain-text table of the summary."""
        lines = [f"{'parameter':<22}{'median':>12}{'-1σ':>11}{'+1σ':>11}{'MAP':>12}{'N/τ':>7}{'ESS':>8}{'R̂':>7}  unit"]
        for r in self.parameters:
            lines.append(f"{r.name:<22}{r.median:>12.5g}{r.q16 - r.median:>11.3g}{r.q84 - r.median:>+11.3g}"
                         f"{r.map:>12.5g}{r.n_over_tau:>7.1f}{r.ess:>8.0f}{r.rhat:>7.3f}  {r.unit}")
        lines.append(f"{self.nwalkers} walkers × {self.nsteps} steps (burn-in {self.burn_in}), "
                     f"acceptance {self.acceptance:.2f}, non-finite log-posteriors {self.n_nonfinite}, "
                     f"{'converged' if self.converged else 'NOT converged'}")
        return "\n".join(lines)


def derived(posterior: Posterior, objective, functions: dict | None = None, max_draws: int = 4000,
            discard: int | None = None) -> dict[str, np.ndarray]:
    """Derived parameters over posterior draws: every expression parameter of the objectives' Parameters
    (e.g. N = 10**log10_N) and ``functions`` (name → f(values) with ``values`` the dict of all model
    parameters, e.g. ``lambda v: model.deformation_potentials(v, 0.1)[0]``)."""
    posterior.check(objective)
    functions = dict(functions or {})
    parts = objective.parts
    draws = posterior.samples(discard, max_draws)
    out = {}
    for theta in draws:
        named, values = objective.named(theta), {}
        for part in parts:
            values.update(part.values(named))
        exprs = {n: values[n] for part in parts for n in part.expressions.exprs}
        for name, value in {**exprs, **{k: f(values) for k, f in functions.items()}}.items():
            out.setdefault(name, []).append(float(value))
    return {k: np.array(v) for k, v in out.items()}


def derived_unit(objective, name: str) -> str:
    """Unit of parameter ``name`` (free or derived, e.g. N = 10**log10_N) from the parts' model cards
    (:mod:`glassfit.contract`); "" if no card has it."""
    return next((part.card.unit(name) for part in objective.parts if part.card.row(name) is not None), "")


def _row(name, unit, values, map_value, tau, n_over_tau, ess, rhat):
    q16, median, q84 = np.percentile(values, [16, 50, 84])
    return ParameterSummary(name, unit, float(median), float(q16), float(q84), float(map_value), float(tau),
                            float(n_over_tau), float(ess), float(rhat))


def summarize(posterior: Posterior, objective, discard: int | None = None,
              derived_values: dict | None = None) -> Summary:
    """Posterior summary of the free parameters (and of ``derived_values`` from :func:`derived`, whose
    MAP, τ and R̂ are left NaN)."""
    posterior.check(objective)
    discard = posterior.burn_in() if discard is None else discard
    samples = posterior.samples(discard)
    tau = posterior.tau
    tau = np.full(len(posterior.names), np.nan) if tau is None else tau
    n_kept = posterior.nsteps - discard
    rhat = split_rhat(posterior.chain[discard:])
    units, map_theta = objective.units(), posterior.map()
    rows = [_row(name, units[name], samples[:, i], map_theta[i], tau[i], posterior.nsteps / tau[i],
                 posterior.nwalkers * n_kept / tau[i], rhat[i]) for i, name in enumerate(posterior.names)]
    for name, values in (derived_values or {}).items():
        rows.append(_row(name, derived_unit(objective, name), values, np.nan, np.nan, np.nan, np.nan, np.nan))
    return Summary(rows, posterior.nsteps, posterior.nwalkers, discard, float(np.mean(posterior.acceptance)),
                   posterior.n_nonfinite, posterior.seed, posterior.converged)


def package_versions() -> dict:
    """Versions of Python, glassfit and the inference packages (None where one is not installed)."""
    from importlib.metadata import PackageNotFoundError, version

    import glassfit

    out = {"python": platform.python_version(), "glassfit": glassfit.__version__}
    for pkg in ("numpy", "scipy", "emcee", "lmfit", "h5py", "arviz-base", "arviz-stats", "dynesty"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = None
    return out


def save_summary(summary: Summary, objective, path, posterior: Posterior | None = None) -> Path:
    """Write ``summary`` as strict JSON (unavailable diagnostics as null) with parameter names, units, priors,
    datasets (name, points, sha256, observable, unit, nature, citation, source), package versions, seed and
    the chain file; returns the path."""
    path = Path(path)
    doc = {
        "parameters": [{k: None if isinstance(v, float) and not np.isfinite(v) else v for k, v in asdict(r).items()}
                       for r in summary.parameters],
        "priors": objective.prior_descriptions(),
        "datasets": [{"name": d.id, "points": d.n, "sha256": d.sha256, "observable": d.observable, "unit": d.y_unit,
                      "nature": d.nature, "citation": d.citation, "source": d.source} for d in objective.datasets],
        "chain": {"file": None if posterior is None or posterior.path is None else str(posterior.path),
                  "fingerprint": fingerprint(objective), "nsteps": summary.nsteps, "nwalkers": summary.nwalkers,
                  "burn_in": summary.burn_in, "acceptance": summary.acceptance,
                  "n_nonfinite": summary.n_nonfinite, "converged": summary.converged},
        "seed": summary.seed,
        "versions": package_versions(),
    }
    write_text(path, json.dumps(doc, indent=2, allow_nan=False))
    return path


def load_summary(path) -> dict:
    """The JSON written by :func:`save_summary`, as a dict; ValueError if it is not one."""
    try:
        doc = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"cannot read a summary from {path}: {exc}") from None
    if not isinstance(doc, dict) or not {"parameters", "priors", "datasets", "versions"} <= set(doc):
        raise ValueError(f"{path} is not a glassfit summary (missing parameters/priors/datasets/versions)")
    return doc


def to_inference_data(posterior: Posterior, objective, max_draws: int = 2000, discard: int | None = None):
    """An ArviZ xarray ``DataTree`` (arviz-base's ``from_dict``) on at most ``max_draws`` evenly thinned draws, walkers
    as chains: groups ``posterior`` (one variable per free parameter, dims chain, draw), ``log_likelihood`` (one
    variable per dataset, dims chain, draw, ``<dataset>_dim_0`` over its points) and ``observed_data`` (each dataset's
    y on the same point dim), for arviz-stats; the ``log_likelihood`` values also feed :mod:`glassfit.compare`."""
    import arviz_base

    posterior.check(objective)
    sub = posterior._subchain(discard, max_draws)              # (steps, walkers, ndim)
    steps, walkers, _ = sub.shape
    loglik = np.array([[objective.pointwise_logl(sub[s, w]) for s in range(steps)] for w in range(walkers)])
    ends = np.cumsum([d.y.size for d in objective.datasets])
    return arviz_base.from_dict(
        {"posterior": {n: sub[:, :, i].T for i, n in enumerate(posterior.names)},
         "log_likelihood": {d.id: loglik[:, :, end - d.y.size:end]
                            for d, end in zip(objective.datasets, ends, strict=True)},
         "observed_data": {d.id: d.y for d in objective.datasets}},
        check_conventions=False,        # emcee may have more walkers (chains) than thinned draws, which ArviZ warns of
    )


__all__ = ["ParameterSummary", "Posterior", "Summary", "derived", "derived_unit", "load_summary", "package_versions",
           "save_summary", "split_rhat", "summarize", "to_inference_data"]
