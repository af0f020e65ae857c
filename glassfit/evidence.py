"""Bayesian evidence by nested sampling (dynesty): ln Z ± its error per model, Bayes factors, prior sensitivity.

:func:`nested` integrates Z = ∫ L(θ) π(θ) dθ of an objective with :class:`dynesty.NestedSampler` (Skilling 2006;
Speagle 2020).  The priors are independent, so the prior transform is θ_i = F_i⁻¹(u_i), each prior's quantile
function (:meth:`glassfit.priors.Prior.ppf`), and every prior is checked to be a normalised density first
(:func:`check_normalised`): the evidence of an unnormalised prior is off by its missing constant.  ln Z includes
the Gaussian likelihood's normalisation (−Σ ln s_i − n/2 ln 2π), which two models of the same data share when σ is
the data's (noise "known"); with a fitted σ it is part of what is compared.

The run is checkpointed to a file (dynesty's own checkpoint, every ``checkpoint_every`` s, beside a JSON record of
the run) and resumes from it after an interrupt or a killed process; a process pool (``processes``) or any executor
with ``map`` (``pool``, e.g. ``dask.distributed.Client.get_executor()``) evaluates ``queue_size`` live-point
proposals at once, with the same result as one process mapping the same queue.

ln B = ln Z_best − ln Z ≥ 0 is the evidence against a model; Jeffreys' scale as revised by Kass & Raftery (1995):
1–3 positive, 3–5 strong, > 5 very strong (2 ln B plays the role of ΔBIC).

:func:`prior_sensitivity` gives ln B when each prior's width is doubled and halved (:func:`scaled_prior`): by
reweighting the nested samples where the new prior is covered with bounded weights (support inside the old one, no
wider: Z' = Z · E_post[π'/π], exact up to Monte-Carlo error), by a new nested run where it is not or too few
samples fall inside it.

This module never imports physics; it takes any objective with ``names``, ``priors``, ``safe_logl``.
"""

from __future__ import annotations

import json
import logging
import math
import multiprocessing
import pickle
import signal
import time
import warnings
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
from scipy.special import logsumexp

from glassfit.priors import LogNormal, LogUniform, Normal, Prior, TruncatedNormal, Uniform
from glassfit.rundir import write_text
from glassfit.sampling import fingerprint

log = logging.getLogger(__name__)

#: width factors of the prior-sensitivity table
WIDTH_FACTORS = (2.0, 0.5)
#: reweighted samples (Kish effective size) below which a sensitivity variant is run anew
MIN_REWEIGHT_ESS = 200.0


def check_normalised(prior: Prior, name: str, rtol: float = 1e-3) -> None:
    """ValueError naming ``name`` unless ``prior`` is a normalised density consistent with its quantile function:
    p(F⁻¹(u)) · dF⁻¹/du = 1 at u = 0.05 … 0.95 (to ``rtol``), which fails for an improper or unnormalised logp."""
    u = np.linspace(0.05, 0.95, 10)
    h = 1e-6
    with np.errstate(all="ignore"):
        x = np.asarray(prior.ppf(u), float)
        slope = (np.asarray(prior.ppf(u + h), float) - np.asarray(prior.ppf(u - h), float)) / (2 * h)
        mass = np.exp([prior.logp(float(v)) for v in x]) * slope
    if not (np.all(np.isfinite(x)) and np.all(np.diff(x) > 0) and np.allclose(mass, 1.0, rtol=rtol, atol=0)):
        raise ValueError(f"the prior of {name} ({prior!r}) is not a normalised density matching its quantile "
                         f"function (p·dF⁻¹/du = {np.round(mass, 4).tolist()} instead of 1); the evidence needs a "
                         "proper, normalised prior")


class PriorTransform:
    """The unit cube → θ map of independent priors: θ_i = F_i⁻¹(u_i)."""

    def __init__(self, priors: list[Prior]):
        self.priors = list(priors)

    def __call__(self, u) -> np.ndarray:
        return np.array([float(p.ppf(v)) for p, v in zip(self.priors, u, strict=True)])


class LogLikelihood:
    """``objective.safe_logl`` as a picklable callable (−inf where the model refuses θ)."""

    def __init__(self, objective):
        self.objective = objective

    def __call__(self, theta) -> float:
        return self.objective.safe_logl(theta)


# ---------------------------------------------------------------- the likelihood held once per process
_HELD = {}


def _hold(loglike: LogLikelihood, transform: PriorTransform, worker: bool = False):
    """Pool initializer (and the parent's own call): this process's likelihood and prior transform, so that a
    proposal sent to a worker carries two module functions instead of the objective; a worker leaves Ctrl-C to the
    parent, which stops the pool."""
    if worker:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    _HELD.update(loglike=loglike, transform=transform)


def _held_loglike(theta) -> float:
    return _HELD["loglike"](theta)


def _held_transform(u) -> np.ndarray:
    return _HELD["transform"](u)


@dataclass(frozen=True)
class Evidence:
    """ln Z of one objective under ``priors`` (name → Prior), from a nested run of ``n_live`` live points."""

    log_z: float                  # ln Z (natural log of the evidence, likelihood normalisation included)
    log_z_err: float              # dynesty's statistical error of ln Z
    information: float            # H = KL(posterior ‖ prior) [nats]: how much the data constrain θ
    n_calls: int
    n_iter: int
    n_live: int
    elapsed: float                # wall time [s] of this process's part of the run
    capped: bool                  # stopped by maxcall before dlogz was reached: ln Z is not converged
    seed: int | None
    names: tuple
    priors: dict
    samples: np.ndarray           # (n, ndim) dead and final live points
    log_weights: np.ndarray       # (n,) ln of their posterior weights (normalised: logsumexp = 0)

    def posterior_draws(self, n: int = 4000, seed=0) -> np.ndarray:
        """``n`` equally weighted posterior draws (multinomial resampling of the weighted samples)."""
        rng = np.random.default_rng(seed)
        return self.samples[rng.choice(len(self.samples), size=n, p=np.exp(self.log_weights))]

    def record(self) -> dict:
        """JSON-able summary: the numbers, the names and the priors' descriptions (no samples)."""
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("samples", "log_weights")}
        out.update(names=list(self.names), priors={n: p.describe() for n, p in self.priors.items()})
        return out


def _priors(objective, priors: dict | None) -> dict[str, Prior]:
    chosen = {n: (priors or {}).get(n, objective.priors[n]) for n in objective.names}
    unknown = sorted(set(priors or {}) - set(objective.names))
    if unknown:
        raise ValueError(f"priors given for {unknown}, which are not free parameters of {objective.names}")
    for name, prior in chosen.items():
        check_normalised(prior, name)
    return chosen


def record_path(checkpoint: Path) -> Path:
    """The JSON record beside a nested run's checkpoint file."""
    return checkpoint.with_name(checkpoint.name + ".json")


def _check_checkpoint(checkpoint: Path | None, settings: dict, resume: bool) -> None:
    """Resume: the checkpoint and its record exist and record these settings; a new run: no checkpoint yet (its
    record is written now)."""
    if resume:
        if checkpoint is None or not checkpoint.exists():
            raise ValueError(f"cannot resume: no checkpoint {checkpoint}")
        try:
            saved = json.loads(record_path(checkpoint).read_text())
        except (OSError, json.JSONDecodeError):
            raise ValueError(f"{checkpoint} has no readable record {record_path(checkpoint).name}") from None
        changed = sorted(k for k in settings if saved.get(k) != settings[k])
        if changed:
            raise ValueError(f"{checkpoint} is a nested run of another objective, priors or settings "
                             f"({', '.join(changed)} differ; queue_size follows the processes); resume with the same "
                             "ones or start anew")
    elif checkpoint is not None:
        if checkpoint.exists():
            raise ValueError(f"{checkpoint} already exists; resume it or choose a new file")
        checkpoint.parent.mkdir(parents=True, exist_ok=True)
        write_text(record_path(checkpoint), json.dumps(settings, indent=2))


def _restore(dynesty, checkpoint: Path, mapper):
    """dynesty's sampler from its checkpoint; ValueError for a file it cannot read."""
    try:
        return dynesty.NestedSampler.restore(str(checkpoint), pool=mapper)
    except (RuntimeError, EOFError, pickle.UnpicklingError, AttributeError, ImportError, KeyError) as exc:
        raise ValueError(f"cannot resume from {checkpoint}: not a readable dynesty checkpoint "
                         f"({type(exc).__name__}: {exc})") from None


def nested(objective, *, priors: dict | None = None, nlive: int = 400, dlogz: float = 0.1, sample: str = "rslice",
           seed: int | None = 0, checkpoint=None, resume: bool = False, checkpoint_every: float = 30.0,
           processes: int = 1, pool=None, queue_size: int | None = None, maxcall: int | None = None,
           progress: bool = False) -> Evidence:
    """ln Z of ``objective`` by static nested sampling.

    priors : name → Prior replacing the objective's own (prior sensitivity); each checked by :func:`check_normalised`.
    nlive, dlogz, sample : dynesty's live points, stopping criterion (remaining ln Z) and proposal: "rslice"
        (slice sampling along random directions, from a live point inside the multi-ellipsoid bound) by default: on
        the curved six-parameter ridge of KKI κ(T) for Stycast 1266 two seeds of "rwalk" (dynesty's default walk
        length) gave ln Z 2.2 nats apart, 6 × their stated errors, "rslice" 0.5–0.9 nats (up to 2.6 × its stated
        error: quote the seed scatter there), and "unif" did not converge (benchmarks/evidence.py); "unif" is
        cheaper on compact posteriors of few parameters.
    seed : seeds dynesty's generator; the same seed and queue size give the same run.
    checkpoint : file of dynesty's checkpoint (with ``<file>.json`` recording objective and settings); ``resume``
        continues from it, after checking it belongs to this objective, priors and settings.
    processes : > 1 runs a process pool of that many workers, each holding the objective once (Ctrl-C stops it).
    pool, queue_size : any object with ``map`` (a process pool, ``Client.get_executor()``) and the number of
        proposals mapped at once (default: ``processes``, or 2 with ``pool``); the objective travels with each
        proposal.  A checkpoint resumes with the same queue size (the same ``processes``).
    maxcall : stop after this many likelihood calls (the result is then ``capped`` and ln Z not converged).
    """
    import dynesty

    for what, value in (("nlive", nlive), ("processes", processes)):
        if not isinstance(value, int | np.integer) or value < (2 * objective.ndim + 2 if what == "nlive" else 1):
            raise ValueError(f"{what} must be an integer ≥ {2 * objective.ndim + 2 if what == 'nlive' else 1}, "
                             f"got {value!r}")
    if not dlogz > 0:
        raise ValueError(f"dlogz must be > 0, got {dlogz!r}")
    if pool is not None and processes > 1:
        raise ValueError("give either processes or pool, not both")
    chosen = _priors(objective, priors)
    descriptions = {n: p.describe() for n, p in chosen.items()}
    queue_size = 1 if pool is None and processes == 1 else queue_size or (processes if processes > 1 else 2)
    settings = {"fingerprint": fingerprint(objective), "priors": descriptions, "nlive": int(nlive),
                "sample": sample, "seed": seed, "queue_size": queue_size}
    checkpoint = None if checkpoint is None else Path(checkpoint)
    _check_checkpoint(checkpoint, settings, resume)
    loglike, transform = LogLikelihood(objective), PriorTransform(chosen.values())
    _hold(loglike, transform)
    # an outside pool's workers do not hold the likelihood: it travels with each proposal
    functions = (loglike, transform) if pool is not None else (_held_loglike, _held_transform)
    own_pool = None
    if processes > 1:
        own_pool = multiprocessing.get_context().Pool(processes, initializer=_hold, initargs=(loglike, transform, True))
    t0, before = time.perf_counter(), objective.n_nonfinite
    interrupted = False
    try:
        mapper = own_pool or pool
        if resume:
            sampler = _restore(dynesty, checkpoint, mapper)
            sampler.loglikelihood.loglikelihood, sampler.prior_transform = functions   # this objective, not a copy
        else:
            sampler = dynesty.NestedSampler(*functions, objective.ndim, nlive=nlive, sample=sample,
                                            rstate=np.random.default_rng(seed), pool=mapper,
                                            queue_size=None if mapper is None else queue_size)
        calls_before = sampler.ncall
        finished = resume and sampler.added_live           # a finished run's checkpoint holds its results
        if not finished:
            with warnings.catch_warnings():                 # a run stopped by maxcall is marked capped instead
                warnings.filterwarnings("ignore", "The sampling was stopped short", UserWarning)
                sampler.run_nested(dlogz=dlogz, maxcall=maxcall, print_progress=progress, resume=resume,
                                   checkpoint_file=None if checkpoint is None else str(checkpoint),
                                   checkpoint_every=checkpoint_every)
    except KeyboardInterrupt:
        interrupted = True
        raise
    finally:
        if own_pool is not None:
            if interrupted:
                own_pool.terminate()
            else:
                own_pool.close()
            own_pool.join()
    if finished:
        capped = bool(json.loads(record_path(checkpoint).read_text()).get("capped", False))
    else:
        capped = maxcall is not None and sampler.ncall - calls_before >= maxcall
        if checkpoint is not None:
            write_text(record_path(checkpoint), json.dumps({**settings, "capped": capped}, indent=2))
    if objective.n_nonfinite > before:
        log.warning("%d likelihood evaluations were not finite (−inf)", objective.n_nonfinite - before)
    if capped:
        log.warning("the nested run stopped at maxcall = %s likelihood calls before dlogz = %g: ln Z is not "
                    "converged", maxcall, dlogz)
    result = sampler.results
    log_w = result.logwt - result.logz[-1]
    return Evidence(float(result.logz[-1]), float(result.logzerr[-1]), float(result.information[-1]),
                    int(sampler.ncall), int(result.niter), int(nlive), time.perf_counter() - t0, capped, seed,
                    tuple(objective.names), chosen, np.asarray(result.samples), log_w - float(logsumexp(log_w)))


@dataclass(frozen=True)
class BayesRow:
    """One model's evidence against the best of the set: ln B = ln Z_best − ln Z (0 for the best)."""

    name: str
    log_z: float
    log_z_err: float
    log_b: float
    log_b_err: float
    information: float            # H [nats] gained from prior to posterior
    n_calls: int
    elapsed: float


def bayes_factors(evidences: dict[str, Evidence]) -> list[BayesRow]:
    """ln B of each model against the one of largest ln Z, best first; errors add in quadrature."""
    if len(evidences) < 2:
        raise ValueError("a Bayes factor needs at least two models")
    best = max(evidences, key=lambda k: evidences[k].log_z)
    top = evidences[best]
    rows = [BayesRow(name, e.log_z, e.log_z_err, top.log_z - e.log_z,
                     0.0 if name == best else math.hypot(top.log_z_err, e.log_z_err), e.information, e.n_calls,
                     e.elapsed)
            for name, e in evidences.items()]
    return sorted(rows, key=lambda r: r.log_b)


def scaled_prior(prior: Prior, factor: float, domain: tuple[float, float] = (-math.inf, math.inf)) -> Prior | None:
    """``prior`` with its width × ``factor`` about its centre, in its natural coordinate (ln x for log-uniform and
    log-normal priors; the σ of normal and log-normal priors, whose support stays unbounded), a bounded support cut to
    ``domain`` (where the model is defined); None for a prior of another form (a scipy.stats one)."""
    lo, hi = domain
    if isinstance(prior, LogNormal):
        return LogNormal(prior.median, prior.sd_ln * factor)
    if isinstance(prior, TruncatedNormal):
        mid, half = 0.5 * (prior.lo + prior.hi), 0.5 * (prior.hi - prior.lo) * factor
        return TruncatedNormal(prior.mu, prior.sd * factor, max(mid - half, lo), min(mid + half, hi))
    if isinstance(prior, Normal):
        return Normal(prior.mu, prior.sd * factor)
    if isinstance(prior, LogUniform):
        mid, half = 0.5 * math.log(prior.lo * prior.hi), 0.5 * math.log(prior.hi / prior.lo) * factor
        return LogUniform(max(math.exp(mid - half), lo), min(math.exp(mid + half), hi))
    if isinstance(prior, Uniform):
        mid, half = 0.5 * (prior.lo + prior.hi), 0.5 * (prior.hi - prior.lo) * factor
        return Uniform(max(mid - half, lo), min(mid + half, hi))
    return None


def prior_text(prior: Prior) -> str:
    """Short text of a prior: its kind and parameters to 4 significant digits, e.g. ``Uniform(0.4125, 1.138)``."""
    described = prior.describe()
    numbers = [v for k, v in described.items() if k != "kind" and isinstance(v, int | float)]
    return f"{described['kind']}({', '.join(format(v, '.4g') for v in numbers)})"


def _bounded_ratio(old: Prior, new: Prior) -> bool:
    """True if π'/π stays bounded over the support of ``old`` (π' no wider than π): a probe of the log ratio at
    the old prior's 1e-12 tails against its median, which rises for a widened normal or log-normal prior, where
    importance weights have infinite variance."""
    (a, b), (c, d) = old.support, new.support
    if c < a or d > b:
        return False
    tails = [float(x) for x in old.ppf([1e-12, 1.0 - 1e-12])]
    middle = float(old.ppf(0.5))
    ratio_middle = new.logp(middle) - old.logp(middle)
    return all(new.logp(x) - old.logp(x) <= ratio_middle + 1e-9 for x in tails)


def reweighted(evidence: Evidence, new: dict[str, Prior]) -> tuple[float, float, float] | None:
    """(ln Z', its Monte-Carlo error, Kish effective samples) of the same likelihood under the priors ``new``
    (name → Prior, any subset of the parameters; the rest as sampled), from the weighted samples of ``evidence``:
    ln Z' = ln Z + ln E_post[π'/π].  None where a new prior is not covered with bounded weights (its support leaves
    the sampled one, or it is wider: :func:`_bounded_ratio`); then a new run is needed.  The error excludes the
    nested run's own ln Z error, which the reweighted value shares."""
    unknown = sorted(set(new) - set(evidence.names))
    if unknown:
        raise ValueError(f"priors given for {unknown}, not parameters of this run ({list(evidence.names)})")
    old = {name: evidence.priors[name] for name in new}
    if not all(_bounded_ratio(old[name], prior) for name, prior in new.items()):
        return None
    log_ratio = np.zeros(len(evidence.samples))
    for name, prior in new.items():
        column = evidence.samples[:, evidence.names.index(name)].tolist()
        log_ratio += np.array([prior.logp(x) - old[name].logp(x) for x in column])
    log_terms = evidence.log_weights + log_ratio
    if not np.any(np.isfinite(log_terms)):
        return -math.inf, math.inf, 0.0
    shift = float(logsumexp(log_terms))
    q = np.exp(log_terms - shift)                     # the reweighted posterior, normalised
    mc = math.sqrt(float(np.sum((q - np.exp(evidence.log_weights)) ** 2)))     # relative error of E_post[π'/π]
    return evidence.log_z + shift, mc, 1.0 / float(np.sum(q**2))


def check_shared_priors(objectives: dict) -> None:
    """ValueError unless every parameter shared by the objectives (name → objective) has the same prior in each: the
    Bayes factor is then decided by what differs, the models."""
    shared = set.intersection(*(set(o.names) for o in objectives.values()))
    for name in sorted(shared):
        described = {label: o.priors[name].describe() for label, o in objectives.items()}
        if len({json.dumps(d, sort_keys=True) for d in described.values()}) > 1:
            raise ValueError(f"the shared parameter {name} has different priors in the models ({described}); "
                             f"give it one with --prior {name}=...")


@dataclass(frozen=True)
class SensitivityRow:
    """ln B(first : second model) with one parameter's prior width × ``factor`` in every model that has it."""

    parameter: str
    factor: float
    priors: str                   # the scaled prior, or why there is none
    log_b: float
    log_b_err: float
    method: str                   # per model: "reweighted", "rerun", "as sampled" (not its parameter), or why not


def prior_sensitivity(objectives: dict, evidences: dict[str, Evidence], factors=WIDTH_FACTORS,
                      domains: dict | None = None, checkpoint_dir=None, resume: bool = False,
                      **nested_options) -> list[SensitivityRow]:
    """ln B of the first model of ``objectives`` against the second when each prior's width is scaled by each of
    ``factors`` (:func:`scaled_prior`, cut to ``domains[name]``), from :func:`reweighted` samples where they cover
    the new prior with ≥ :data:`MIN_REWEIGHT_ESS` effective samples, else by a new :func:`nested` run (with
    ``nested_options``; checkpoints in ``checkpoint_dir``, continued with ``resume``).  A prior that cannot change
    (at the model's bounds, or a scipy.stats one) gives the row of the priors as sampled.  Shared parameters must
    have the same prior (:func:`check_shared_priors`)."""
    check_shared_priors(objectives)
    (first, a), (second, b) = list(objectives.items())[:2]
    base = (evidences[first].log_z - evidences[second].log_z,
            math.hypot(evidences[first].log_z_err, evidences[second].log_z_err))
    rows = []
    for parameter in dict.fromkeys(a.names + b.names):
        prior = (a if parameter in a.names else b).priors[parameter]
        for factor in factors:
            scaled = scaled_prior(prior, factor, (domains or {}).get(parameter, (-math.inf, math.inf)))
            if scaled is None or scaled.describe() == prior.describe():
                why = "skipped: a scipy.stats prior" if scaled is None else "unchanged: at the model's bounds"
                rows.append(SensitivityRow(parameter, factor, prior_text(prior), *base, why))
                continue
            log_z, methods = {}, []
            for name in (first, second):
                objective, run = objectives[name], evidences[name]
                if parameter not in objective.names:
                    log_z[name], method = (run.log_z, run.log_z_err), "as sampled"
                else:
                    estimate = reweighted(run, {parameter: scaled})
                    if estimate is not None and estimate[2] >= MIN_REWEIGHT_ESS:
                        log_z[name], method = (estimate[0], math.hypot(run.log_z_err, estimate[1])), "reweighted"
                    else:
                        target = None if checkpoint_dir is None else (
                            Path(checkpoint_dir) / f"{name}-{parameter}-x{factor:g}.pkl")
                        again = resume and target is not None and target.exists()
                        if target is not None and not again:
                            target.unlink(missing_ok=True)
                        rerun = nested(objective, priors={parameter: scaled}, checkpoint=target, resume=again,
                                       **nested_options)
                        log_z[name], method = (rerun.log_z, rerun.log_z_err), "rerun"
                methods.append(f"{name}: {method}")
            rows.append(SensitivityRow(parameter, factor, prior_text(scaled), log_z[first][0] - log_z[second][0],
                                       math.hypot(log_z[first][1], log_z[second][1]), ", ".join(methods)))
    return rows


__all__ = ["MIN_REWEIGHT_ESS", "WIDTH_FACTORS", "BayesRow", "Evidence", "LogLikelihood", "PriorTransform",
           "SensitivityRow", "bayes_factors", "check_normalised", "check_shared_priors", "nested", "prior_sensitivity",
           "prior_text", "record_path", "reweighted", "scaled_prior"]
