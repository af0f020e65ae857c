"""The maximum a posteriori (MAP) point: a seeded global search inside the prior support, then least squares.

The quantity minimised is −2 ln(posterior) up to a constant,

    Φ(θ) = Σ_i r_i(θ)² + Σ_k ρ_k(θ_k)²,

with r_i the data residuals of the objective's noise model and ρ_k = :meth:`glassfit.priors.Prior.residual`
(√(2 [ln p(mode) − ln p(θ_k)]) with the sign of θ_k − mode; zero for a flat prior), so that a normal or
log-normal prior acts with its shape and not only through its support.  χ² (the data part) is reported
separately from the prior part.

:func:`map_fit` searches globally before it trusts a local optimum:

* ``"multistart"`` (default): a Latin hypercube of ``screen`` points in the priors' quantile space
  (scipy.stats.qmc), the start values of the objective added; Φ at each; local least squares from the
  ``starts`` best; the distinct optima are kept.
* ``"differential_evolution"``: scipy's differential evolution over the priors' central 99.8 % (the
  support where it is finite), polished by least squares.

The screening points and each generation of differential evolution (``vectorized=True``, so its population is
updated a generation at a time) are evaluated as one batch of parameter sets (:meth:`_Counted.phi_batch`), and so
are the displaced points of every local fit's finite-difference Jacobian (:meth:`_Counted.jacobian`).
* ``"none"``: one local fit from the start values (no global search; for a start known to be good).

``benchmarks/global_search.py`` measures both on measured data (success rate over seeds, seconds).
The covariance at the MAP is the Laplace approximation with the stated noise model — never rescaled by
χ²_ν — with the priors' normal approximation added, which bounds directions the data leave flat
(:func:`_covariance`).
This module never imports physics.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

METHODS = ("multistart", "differential_evolution", "none")
#: quantile range of the priors explored where a support is infinite (and the DE box)
_EDGE = 1e-3
#: relative Φ tolerance of the local fits from each start (the best is then polished at scipy's 1e-8)
_COARSE_FTOL = 1e-6
#: quantiles of ±1σ of a normal distribution
ONE_SIGMA = np.array([0.15865525393145707, 0.8413447460685429])


@dataclass(frozen=True)
class Optimum:
    """One local optimum: θ, its data χ², its prior part −2 ln[p(θ)/p(mode)] and how many starts reached it."""

    theta: np.ndarray
    chisqr: float
    prior_penalty: float
    hits: int = 1

    @property
    def phi(self) -> float:
        """−2 ln(posterior) up to a constant: χ² + prior part."""
        return self.chisqr + self.prior_penalty


@dataclass(frozen=True)
class MapResult:
    """:func:`map_fit`'s result: the MAP θ and its covariance, the distinct optima (best first) and the cost."""

    theta: np.ndarray
    cov: np.ndarray
    optima: list[Optimum]
    method: str
    n_evaluations: int
    elapsed: float                          # wall time [s]
    names: list[str] = field(default_factory=list)

    @property
    def best(self) -> Optimum:
        return self.optima[0]


class _Counted:
    """Φ and the residual vector of an objective with the noise parameters held, counting evaluations."""

    def __init__(self, objective, theta, free, use_priors=True):
        self.objective, self.theta, self.free = objective, np.array(theta, float), free
        self.shaped = [(j, objective.priors[objective.names[i]]) for j, i in enumerate(free)
                       if use_priors and not objective.priors[objective.names[i]].flat]
        self.n = 0
        self.last = None            # (x, residuals) of the last single evaluation, reused by the Jacobian at x

    def full(self, x):
        theta = self.theta.copy()
        theta[self.free] = x
        return theta

    def residuals(self, x):
        self.n += 1
        data = self.objective.residuals(self.full(x))
        prior = [p.residual(float(x[j])) for j, p in self.shaped]
        self.last = (np.array(x, float), np.concatenate([data, prior]) if prior else data)
        return self.last[1]

    def residuals_batch(self, xs) -> np.ndarray:
        """The residual vectors of every row of ``xs`` (P, d), the models evaluated for the batch at once."""
        xs = np.atleast_2d(np.asarray(xs, dtype=float))
        thetas = np.repeat(self.theta[None], len(xs), axis=0)
        thetas[:, self.free] = xs
        data = self.objective.residuals_batch(thetas)
        self.n += len(xs)
        if not self.shaped:
            return data
        return np.concatenate([data, [[p.residual(float(x[j])) for j, p in self.shaped] for x in xs]], axis=1)

    def jacobian(self, x, lo, hi) -> np.ndarray:
        """∂ residuals/∂x by forward differences with scipy's 2-point steps (√ε · max(1, |x_j|), backwards where
        the step would leave the bounds ``lo``, ``hi``), the d displaced points evaluated as one batch."""
        x = np.asarray(x, dtype=float)
        r0 = self.last[1] if self.last is not None and np.array_equal(self.last[0], x) else self.residuals(x)
        h = np.sqrt(np.finfo(float).eps) * np.where(x >= 0, 1.0, -1.0) * np.maximum(1.0, np.abs(x))
        h = np.where((x + h > hi) | (x + h < lo), -h, h)
        displaced = x + np.diag(h)
        step = np.diag(displaced) - x                              # the step actually taken, after rounding
        try:
            with np.errstate(all="ignore"):
                rows = self.residuals_batch(displaced)
        except (ArithmeticError, ValueError):
            rows = np.array([self.residuals(point) for point in displaced])
        return ((rows - r0) / step[:, None]).T

    def phi(self, x):
        try:
            with np.errstate(all="ignore"):                 # a screening point far out may overflow: Φ = ∞
                r = self.residuals(x)
                value = float(np.dot(r, r))
        except (ArithmeticError, ValueError):
            return math.inf
        return value if math.isfinite(value) else math.inf

    def phi_batch(self, xs) -> np.ndarray:
        """Φ of every row of ``xs`` (P, d): the population of a screening or of differential evolution, the models
        evaluated for a batch of parameter sets at once (:meth:`~glassfit.objective.Objective.residuals_batch`);
        point by point where the batch fails, so that only the failing points get Φ = ∞."""
        xs = np.atleast_2d(np.asarray(xs, dtype=float))
        try:
            with np.errstate(all="ignore"):
                r = self.residuals_batch(xs)
                values = np.sum(r * r, axis=1)
        except (ArithmeticError, ValueError):
            return np.array([self.phi(x) for x in xs])
        return np.where(np.isfinite(values), values, math.inf)


def _noise_parts(objective):
    """(part, index in θ of its noise parameter) of each part of ``objective`` that has one."""
    return [(o, objective.names.index(o.noise_name)) for o in objective.parts if o.noise_name is not None]


def _split(objective):
    noise = _noise_parts(objective)
    noise_idx = {i for _, i in noise}
    return noise, [i for i in range(objective.ndim) if i not in noise_idx]


def least_squares(objective, theta0=None, max_nfev: int | None = None,
                  use_priors: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Local MAP from ``theta0`` (default the objective's start values) and its covariance.

    The model parameters minimise Φ (module docstring; χ² alone with ``use_priors=False``, the maximum
    likelihood inside the prior support) by scipy ``least_squares`` (trust-region reflective); the noise
    parameters take their profile value (scale × rms of the normalised residuals) with variance v²/(2n).
    No global search: see :func:`map_fit`.
    """
    theta, cov, _ = _local(objective, theta0, max_nfev, use_priors=use_priors)
    return theta, cov


def _local(objective, theta0=None, max_nfev=None, counter=None, use_priors=True, ftol=1e-8):
    from scipy import optimize

    theta = objective.theta() if theta0 is None else objective.vector(theta0, "the start θ")
    noise, free = _split(objective)
    with np.errstate(all="ignore"):
        finite = np.isfinite(objective.logpost(theta))
    if not finite:
        raise ValueError(_why_not_finite(objective, theta))
    lo, hi = (np.array([objective.priors[objective.names[i]].support[k] for i in free]) for k in (0, 1))
    fun = counter or _Counted(objective, theta, free, use_priors)
    fit = None
    for _ in range(2):          # the second pass refits with the noise parameters at their profile values
        fun.theta = theta.copy()
        fit = optimize.least_squares(fun.residuals, np.clip(theta[free], lo, hi), jac=lambda x: fun.jacobian(x, lo, hi),
                                     bounds=(lo, hi), x_scale="jac", max_nfev=max_nfev, ftol=ftol)
        theta[free] = fit.x
        for part, i in noise:
            theta[i] *= float(np.sqrt(np.mean(part.residuals(part.theta(objective.named(theta))) ** 2)))
        if not noise:
            break
    n_data = sum(d.y.size for d in objective.datasets)
    cov = np.zeros((objective.ndim, objective.ndim))
    cov[np.ix_(free, free)] = _covariance(fit.jac[:n_data], [objective.priors[objective.names[i]] for i in free])
    for part, i in noise:
        cov[i, i] = theta[i] ** 2 / (2 * part.data.y.size)
    return theta, cov, fit.jac[:n_data]


def _why_not_finite(objective, theta) -> str:
    """One line on why the log-posterior at the start θ is −inf: which start values leave their prior's
    support, or else that the likelihood itself is not finite."""
    outside = [f"{n} = {v:g} (prior support [{objective.priors[n].support[0]:g}, {objective.priors[n].support[1]:g}])"
               for n, v in objective.named(theta).items() if not math.isfinite(objective.priors[n].logp(v))]
    if outside:
        return (f"the start value {'; '.join(outside)} lies outside its prior: set it inside with --set NAME=VALUE "
                "or give a wider --prior")
    return (f"the likelihood is not finite at the start values {objective.named(theta)}: check σ (it must be > 0 "
            "and not vanishingly small), the data and the model's range")


def _covariance(jac, prior_list) -> np.ndarray:
    """(JᵀJ + P⁻¹)⁻¹ with P = diag(σ_k²), σ_k each prior's half 68 % width: the Gaussian product of the
    likelihood at the optimum and a normal approximation of the priors — exact for normal priors, and along
    directions the data leave flat it is bounded by the priors instead of infinite (or the pseudo-inverse's
    misleading zero)."""
    jac = np.asarray(jac, float)
    prior_sd = np.array([prior_half_width(p) for p in prior_list])
    return np.linalg.inv(jac.T @ jac + np.diag(1.0 / prior_sd**2))


def prior_half_width(prior) -> float:
    """Half the central 68.27 % interval of ``prior`` (its σ: exactly σ for a normal prior)."""
    return 0.5 * float(np.diff(prior.ppf(ONE_SIGMA))[0])


def _box(objective, free):
    """Quantile-space → θ map of the free model parameters, and the finite box of the priors' central range."""
    priors = [objective.priors[objective.names[i]] for i in free]

    def to_theta(u):
        return np.array([float(p.ppf(np.clip(q, _EDGE, 1 - _EDGE))) for p, q in zip(priors, u, strict=True)])

    box = [tuple(float(v) for v in p.ppf([_EDGE, 1 - _EDGE])) for p in priors]
    return to_theta, box


def _distinct(optima, objective, free, tol=0.02, phi_tol=1e-3) -> list[Optimum]:
    """Merge optima closer than ``tol`` prior half-widths in every parameter, or with Φ equal to ``phi_tol``
    (points of one flat valley of an exact degeneracy, statistically the same fit); best Φ first."""
    widths = np.array([prior_half_width(objective.priors[objective.names[i]]) for i in free])
    kept: list[Optimum] = []
    for opt in sorted(optima, key=lambda o: o.phi):
        for k, other in enumerate(kept):
            if (abs(opt.phi - other.phi) <= phi_tol
                    or np.all(np.abs(opt.theta[free] - other.theta[free]) <= tol * widths)):
                kept[k] = Optimum(other.theta, other.chisqr, other.prior_penalty, other.hits + opt.hits)
                break
        else:
            kept.append(opt)
    return kept


def _optimum(objective, theta, free, use_priors=True) -> Optimum:
    chisqr = float(np.sum(objective.residuals(theta) ** 2))
    penalty = sum(objective.priors[objective.names[i]].residual(float(theta[i])) ** 2 for i in free)
    return Optimum(np.array(theta, float), chisqr, float(penalty) if use_priors else 0.0)


def map_fit(objective, *, method: str = "multistart", starts: int | None = None, screen: int | None = None,
            seed: int | None = 0, theta0=None, max_nfev: int | None = None, use_priors: bool = True,
            starts_at=()) -> MapResult:
    """The MAP of ``objective`` after a global search inside its prior support (module docstring).

    Parameters
    ----------
    method : {"multistart", "differential_evolution", "none"}
    starts : int, optional
        Local least-squares runs (multistart; default max(6, 2 d) for d free model parameters).
    screen : int, optional
        Latin-hypercube points screened (multistart; default 40 d) or the DE population size per parameter
        (default 10).
    seed : int or None
        Seeds the hypercube or the evolution; the same seed gives the same result.
    theta0 : array, optional
        Start values added to the screened points (default the objective's start values).
    max_nfev : int, optional
        Evaluation cap of each local run.
    use_priors : bool
        False: maximise the likelihood inside the prior support instead (information criteria).
    starts_at : sequence of arrays, optional
        Full θ vectors (as ``theta0``) from which local fits start in addition to the search's own starts, e.g.
        the optima of a neighbouring problem (the noise-free data of a simulation study).
    """
    from scipy import optimize
    from scipy.stats import qmc

    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    t0 = time.perf_counter()
    theta0 = objective.theta() if theta0 is None else objective.vector(theta0, "the start θ")
    _, free = _split(objective)
    d = len(free)
    counter = _Counted(objective, theta0, free, use_priors)
    to_theta, box = _box(objective, free)
    if method == "multistart":
        n_screen = 40 * d if screen is None else int(screen)
        n_starts = max(6, 2 * d) if starts is None else int(starts)
        if n_screen < 1 or n_starts < 1:
            raise ValueError(f"screen and starts must be ≥ 1, got {n_screen}, {n_starts}")
        points = [to_theta(u) for u in qmc.LatinHypercube(d, seed=seed).random(n_screen)]
        candidates = [theta0[free], *points]
        phis = counter.phi_batch(candidates)
        order = [k for k in np.argsort(phis, kind="stable") if np.isfinite(phis[k])][:n_starts]
        local_starts = [candidates[k] for k in order]
    elif method == "none":
        local_starts = [theta0[free]]
    else:
        popsize = 10 if screen is None else int(screen)
        result = optimize.differential_evolution(lambda xs: counter.phi_batch(xs.T), box, seed=seed, popsize=popsize,
                                                 polish=False, init="latinhypercube", tol=1e-6, maxiter=200,
                                                 vectorized=True, updating="deferred")
        local_starts = [result.x]
    local_starts += [objective.vector(theta, "a start of starts_at")[free] for theta in starts_at]
    if not local_starts:
        raise ValueError(f"no point of the prior support gives a finite posterior for {objective.names}; "
                         "check the priors and the data")
    optima, failures = [], []
    for x in local_starts:            # coarse local fits (Φ to 1e-6 relative) from every start ...
        start = theta0.copy()
        start[free] = x
        try:
            theta, _, _ = _local(objective, start, max_nfev, counter, use_priors, ftol=_COARSE_FTOL)
        except ValueError as exc:
            failures.append(str(exc))
            continue
        optima.append(_optimum(objective, theta, free, use_priors))
    if not optima:
        raise ValueError(failures[0] if len(failures) == 1 else
                         f"every local fit of {objective.names} failed, the first because {failures[0]}")
    best = min(optima, key=lambda o: o.phi)     # ... and the best polished to scipy's default tolerance
    theta, cov, _ = _local(objective, best.theta, max_nfev, counter, use_priors)
    optima.append(_optimum(objective, theta, free, use_priors))
    distinct = _distinct(optima, objective, free)
    return MapResult(distinct[0].theta, cov, distinct, method, counter.n, time.perf_counter() - t0,
                     list(objective.names))


__all__ = ["METHODS", "ONE_SIGMA", "MapResult", "Optimum", "least_squares", "map_fit", "prior_half_width"]
