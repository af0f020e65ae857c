"""Prior distributions as objects: one prior serves the log-posterior, walker starts and a prior transform.

Every prior has ``logp(x)`` (natural log of the density, −inf outside the support), ``rvs(size, rng)``,
``ppf(q)`` (the quantile function, for nested samplers), ``support`` and ``describe()`` (a JSON-able
dict for the results file).  Any frozen :mod:`scipy.stats` distribution is accepted through
:func:`as_prior`.

Default priors come from a model's parameter table (:func:`default_priors`): log-uniform over the
bounds of a ``log_scale`` parameter, uniform over the bounds otherwise.

>>> from glassfit.priors import LogUniform
>>> LogUniform(1e-4, 1e4).logp(1.0)  # doctest: +ELLIPSIS
-2.91...
"""

from __future__ import annotations

import abc
import math

import numpy as np
from scipy import special, stats

from glassfit.contract import ModelCard, card_of
from glassfit.validation import finite_array


def _bounds(name: str, lo, hi, positive: bool = False) -> tuple[float, float]:
    lo, hi = (float(finite_array(f"{name} bound", v)) for v in (lo, hi))
    if not lo < hi:
        raise ValueError(f"{name} prior needs lo < hi, got lo={lo!r}, hi={hi!r}")
    if positive and lo <= 0:
        raise ValueError(f"{name} prior needs lo > 0, got lo={lo!r}")
    return lo, hi


def _quantiles(q) -> np.ndarray:
    q = finite_array("quantile q", q)
    if np.any((q < 0) | (q > 1)):
        raise ValueError("quantile q must lie in [0, 1]")
    return q


class Prior(abc.ABC):
    """Base class: subclasses define ``support``, ``logp``, ``ppf`` and ``describe``; ``rvs`` inverts ``ppf``."""

    support: tuple[float, float] = (-math.inf, math.inf)

    @abc.abstractmethod
    def logp(self, x: float) -> float:
        """Natural log of the density at ``x`` (−inf outside the support)."""

    @abc.abstractmethod
    def ppf(self, q):
        """Quantile function at ``q`` ∈ [0, 1]."""

    @abc.abstractmethod
    def describe(self) -> dict:
        """JSON-able description: ``{"kind": ..., <parameters>}``."""

    def rvs(self, size=None, rng=None):
        """Random draws (inverse-transform sampling with ``numpy.random.default_rng(rng)``)."""
        return self.ppf(np.random.default_rng(rng).uniform(size=size))

    @property
    def mode(self) -> float:
        """Where the density is largest (any point for a flat density); numerical by default."""
        from scipy import optimize

        lo, hi = (float(v) for v in self.ppf([1e-9, 1.0 - 1e-9]))
        best = optimize.minimize_scalar(lambda x: -self.logp(x), bounds=(lo, hi), method="bounded",
                                        options={"xatol": 1e-10 * (abs(lo) + abs(hi))})
        return float(best.x)

    @property
    def std(self) -> float:
        """Standard deviation, from the quantile function (Gauss–Legendre on 200 nodes in q: exact for the
        uniform, 1e-3 relative for the normal, whose far tails the nodes do not reach)."""
        u, w = np.polynomial.legendre.leggauss(200)
        x = self.ppf(0.5 * (u + 1.0))
        mean = 0.5 * np.sum(w * x)
        return float(np.sqrt(0.5 * np.sum(w * (x - mean) ** 2)))

    def residual(self, x: float) -> float:
        """The prior as a least-squares residual: sign(x − mode)·√(2 [ln p(mode) − ln p(x)]), so that Σ of
        the squares of data and prior residuals is −2 ln(posterior) up to a constant (Normal: (x − μ)/σ;
        flat: 0); NaN outside the support.  Scale priors (log-uniform, log-normal) take it in their natural
        coordinate ln x, where the log-uniform is flat and the log-normal is (ln x − ln median)/σ_ln, so that a
        scale-free prior exerts no pull on the MAP."""
        gap = self.logp(self.mode) - self.logp(x)
        if not math.isfinite(gap):
            return math.nan
        return math.copysign(math.sqrt(2.0 * max(gap, 0.0)), x - self.mode)

    @property
    def flat(self) -> bool:
        """True if the prior adds nothing to the MAP (its :meth:`residual` is 0 on the support)."""
        return False

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.describe().items() if k != "kind")
        return f"{type(self).__name__}({args})"


class Uniform(Prior):
    """Uniform density on [lo, hi]."""

    def __init__(self, lo: float, hi: float):
        self.lo, self.hi = _bounds("Uniform", lo, hi)
        self.support = (self.lo, self.hi)
        self._logp = -math.log(self.hi - self.lo)

    def logp(self, x):
        return self._logp if self.lo <= x <= self.hi else -math.inf

    def ppf(self, q):
        return self.lo + _quantiles(q) * (self.hi - self.lo)

    @property
    def mode(self):
        return 0.5 * (self.lo + self.hi)

    @property
    def flat(self):
        return True

    def residual(self, x):
        return 0.0 if self.lo <= x <= self.hi else math.nan

    def describe(self):
        return {"kind": "Uniform", "lo": self.lo, "hi": self.hi}


class LogUniform(Prior):
    """Density ∝ 1/x on [lo, hi], 0 < lo < hi (uniform in ln x; scale-free for positive quantities)."""

    def __init__(self, lo: float, hi: float):
        self.lo, self.hi = _bounds("LogUniform", lo, hi, positive=True)
        self.support = (self.lo, self.hi)
        self._log_norm = math.log(math.log(self.hi / self.lo))

    def logp(self, x):
        return -math.log(x) - self._log_norm if self.lo <= x <= self.hi else -math.inf

    def ppf(self, q):
        return self.lo * (self.hi / self.lo) ** _quantiles(q)

    @property
    def mode(self):
        return self.lo

    @property
    def flat(self):
        return True             # in ln x, the coordinate of its residual

    def residual(self, x):
        return 0.0 if self.lo <= x <= self.hi else math.nan

    def describe(self):
        return {"kind": "LogUniform", "lo": self.lo, "hi": self.hi}


class Normal(Prior):
    """Gaussian density with mean ``mu`` and standard deviation ``sd`` > 0."""

    def __init__(self, mu: float, sd: float):
        self.mu = float(finite_array("Normal mu", mu))
        self.sd = float(finite_array("Normal sd", sd))
        if not self.sd > 0:
            raise ValueError(f"Normal prior needs sd > 0, got {self.sd!r}")
        self._log_norm = -0.5 * math.log(2 * math.pi) - math.log(self.sd)

    def logp(self, x):
        return self._log_norm - 0.5 * ((x - self.mu) / self.sd) ** 2

    def ppf(self, q):
        return self.mu + self.sd * special.ndtri(_quantiles(q))

    @property
    def mode(self):
        return self.mu

    def describe(self):
        return {"kind": "Normal", "mu": self.mu, "sd": self.sd}


class TruncatedNormal(Normal):
    """Gaussian (``mu``, ``sd``) restricted to [lo, hi] and renormalised."""

    def __init__(self, mu: float, sd: float, lo: float, hi: float):
        super().__init__(mu, sd)
        self.lo, self.hi = _bounds("TruncatedNormal", lo, hi)
        self.support = (self.lo, self.hi)
        self._cdf = special.ndtr((np.array([self.lo, self.hi]) - self.mu) / self.sd)
        if not self._cdf[1] > self._cdf[0]:
            raise ValueError("TruncatedNormal prior has no probability mass in [lo, hi]")
        self._log_norm -= math.log(self._cdf[1] - self._cdf[0])

    def logp(self, x):
        return super().logp(x) if self.lo <= x <= self.hi else -math.inf

    def ppf(self, q):
        z = special.ndtri(self._cdf[0] + _quantiles(q) * (self._cdf[1] - self._cdf[0]))
        return np.clip(self.mu + self.sd * z, self.lo, self.hi)

    @property
    def mode(self):
        return min(max(self.mu, self.lo), self.hi)

    def describe(self):
        return {"kind": "TruncatedNormal", "mu": self.mu, "sd": self.sd, "lo": self.lo, "hi": self.hi}


class ScipyPrior(Prior):
    """Any frozen continuous :mod:`scipy.stats` distribution, e.g. ``ScipyPrior(scipy.stats.gamma(2.0))``."""

    def __init__(self, dist):
        if not (hasattr(dist, "logpdf") and hasattr(dist, "ppf") and hasattr(dist, "dist")):
            raise TypeError(f"expected a frozen scipy.stats distribution, got {type(dist).__name__}")
        self.dist = dist
        self.support = tuple(float(v) for v in dist.support())

    def logp(self, x):
        return float(self.dist.logpdf(x))

    def ppf(self, q):
        return self.dist.ppf(_quantiles(q))

    def describe(self):
        return {"kind": "scipy." + self.dist.dist.name, "args": [float(a) for a in self.dist.args],
                "kwds": {k: float(v) for k, v in self.dist.kwds.items()}}


def as_prior(obj) -> Prior:
    """A :class:`Prior` from a Prior (returned as is) or a frozen scipy.stats distribution."""
    if isinstance(obj, Prior):
        return obj
    if isinstance(obj, stats.distributions.rv_frozen):
        return ScipyPrior(obj)
    raise TypeError(f"a prior must be a glassfit.priors.Prior or a frozen scipy.stats distribution, got {obj!r}")


#: Prior forms accepted by :func:`prior_from_text`: name → (class or factory, number of arguments)
PRIOR_FORMS = {
    "uniform": (Uniform, 2),
    "loguniform": (LogUniform, 2),
    "normal": (Normal, 2),
    "truncnormal": (TruncatedNormal, 4),
}


class LogNormal(ScipyPrior):
    """Log-normal density with median ``median`` > 0 and standard deviation ``sd_ln`` > 0 of ln x."""

    def __init__(self, median: float, sd_ln: float):
        median, sd_ln = float(finite_array("LogNormal median", median)), float(finite_array("LogNormal sd", sd_ln))
        if not (median > 0 and sd_ln > 0):
            raise ValueError(f"LogNormal prior needs median > 0 and sd_ln > 0, got {median!r}, {sd_ln!r}")
        super().__init__(stats.lognorm(sd_ln, scale=median))
        self.median, self.sd_ln = median, sd_ln

    @property
    def mode(self):
        return self.median * math.exp(-self.sd_ln**2)

    def residual(self, x):
        return math.log(x / self.median) / self.sd_ln if x > 0 else math.nan

    def describe(self):
        return {"kind": "LogNormal", "median": self.median, "sd_ln": self.sd_ln}


PRIOR_FORMS["lognormal"] = (LogNormal, 2)


def prior_from_text(text: str) -> Prior:
    """A prior from text such as ``"normal(3000, 300)"``, ``"loguniform(1e-3, 10)"``,
    ``"truncnormal(1, 0.5, 0, 5)"``, ``"uniform(0, 1)"`` or ``"lognormal(3000, 0.4)"`` (median, σ of ln x).

    >>> prior_from_text("uniform(0, 2)").logp(1.0)
    -0.6931471805599453
    """
    head, _, rest = str(text).strip().partition("(")
    kind = head.strip().lower()
    if kind not in PRIOR_FORMS or not rest.endswith(")"):
        raise ValueError(f"cannot read the prior {text!r}: write one of "
                         + ", ".join(f"{k}({', '.join(['a'] * n)})" for k, (_, n) in PRIOR_FORMS.items()))
    factory, n_args = PRIOR_FORMS[kind]
    try:
        args = [float(a) for a in rest[:-1].split(",")]
    except ValueError:
        raise ValueError(f"cannot read the prior {text!r}: its arguments must be numbers") from None
    if len(args) != n_args:
        raise ValueError(f"the prior {kind} takes {n_args} numbers, got {len(args)} in {text!r}")
    return factory(*args)


def in_logarithm(prior: Prior, name: str = "x") -> Prior:
    """The prior of ln x given the prior of x, for the forms that stay closed: LogUniform(lo, hi) →
    Uniform(ln lo, ln hi); LogNormal(median, s) → Normal(ln median, s)."""
    if isinstance(prior, LogUniform):
        return Uniform(math.log(prior.lo), math.log(prior.hi))
    if isinstance(prior, LogNormal):
        return Normal(math.log(prior.median), prior.sd_ln)
    raise ValueError(f"{name} is sampled in ln {name}: give it a loguniform(...) or lognormal(...) prior")


def default_prior(name: str, lo: float, hi: float, log_scale: bool = False) -> Prior:
    """LogUniform(lo, hi) for a ``log_scale`` parameter, else Uniform(lo, hi); error naming ``name`` if unbounded."""
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise ValueError(f"parameter {name!r} has no finite bounds ({lo}, {hi}); give it a prior")
    return LogUniform(lo, hi) if log_scale else Uniform(lo, hi)


def default_priors(model, params, names, overrides: dict | None = None) -> dict[str, Prior]:
    """Priors of the free parameters ``names``: over the lmfit bounds of ``params`` (the parameter table's
    bounds unless narrowed), log-uniform where the model's table marks ``log_scale``; ``overrides``
    (name → prior) replace them.  ``model``: a model or its :class:`glassfit.contract.ModelCard`.

    Raises ValueError listing the valid names if an override names no free parameter.
    """
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - set(names))
    if unknown:
        raise ValueError(f"priors given for unknown or fixed parameters {unknown}; free parameters: {list(names)}")
    card = model if isinstance(model, ModelCard) else card_of(model)
    priors = {}
    for name in names:
        if name in overrides:
            priors[name] = as_prior(overrides[name])
            continue
        row = card.row(name)
        priors[name] = default_prior(name, params[name].min, params[name].max, row is not None and row.log_scale)
    return priors


__all__ = ["PRIOR_FORMS", "LogNormal", "LogUniform", "Normal", "Prior", "ScipyPrior", "TruncatedNormal", "Uniform",
           "as_prior", "default_prior", "default_priors", "in_logarithm", "prior_from_text"]
