"""The statistical objective: data + model + noise model + priors → log-likelihood, log-prior, log-posterior.

The sampler only ever sees ``logpost(θ)`` of an :class:`Objective` (one dataset) or a
:class:`JointObjective` (several datasets or observables sharing parameters by name).  θ holds the
free parameters, in the order of ``objective.names``: the model parameters with ``vary=True`` and no
expression, then the noise parameters.  Expression parameters (e.g. ``N = 10**log10_N``) follow from θ
through lmfit's expression language (asteval).

Gaussian likelihood, per point i,

    ln L_i = −½ (y_i − m_i)² / s_i² − ln s_i − ½ ln 2π,

with the noise model choosing s_i:

* ``"known"``  — s_i = σ_i from the data;
* ``"scaled"`` — s_i = k σ_i with a fitted factor ``sigma_scale[<name>]`` (prior LogUniform(0.1, 10));
* ``"fitted"`` — s_i = r |y_i|, a fitted relative error ``sigma_rel[<name>]`` (prior LogUniform(1e-4, 1)),
  for data without σ; relative because glass observables span decades;
* ``"absolute"`` — s_i = a R, the same for every point, a fitted fraction ``sigma_frac[<name>]`` (prior
  LogUniform(1e-6, 1)) of the data's range R = max y − min y: for data without σ that cross zero (δf/f, δv/v).

This module never imports physics: it takes any :class:`lmfit.Model`.
"""

from __future__ import annotations

import logging
import math

import lmfit
import numpy as np

from glassfit.batching import batch_slices
from glassfit.contract import ModelCard, card_of
from glassfit.dataset import Dataset
from glassfit.priors import LogUniform, as_prior, default_priors
from glassfit.validation import trusted_inputs

log = logging.getLogger(__name__)

NOISE_MODELS = ("known", "scaled", "fitted", "absolute")
#: the noise models that fit σ of data that give none
FITTED_NOISE = ("fitted", "absolute")
_NOISE_PARAMETER = {"scaled": ("sigma_scale", LogUniform(0.1, 10.0)), "fitted": ("sigma_rel", LogUniform(1e-4, 1.0)),
                    "absolute": ("sigma_frac", LogUniform(1e-6, 1.0))}
_LN_2PI = math.log(2 * math.pi)


class Expressions:
    """Expression (derived) parameters of an lmfit Parameters, evaluated with lmfit's asteval in dependency order."""

    def __init__(self, params: lmfit.Parameters):
        self.exprs = {name: p.expr for name, p in params.items() if p.expr}
        self._interp = None

    def __getstate__(self):
        return {"exprs": self.exprs, "_interp": None}

    def _compile(self):
        from asteval import Interpreter, get_ast_names

        self._interp = Interpreter()
        code = {name: self._interp.parse(expr) for name, expr in self.exprs.items()}
        order, pending = [], dict(code)
        while pending:
            ready = [n for n, c in pending.items() if not set(get_ast_names(c)) & (set(pending) - {n})]
            if not ready:
                raise ValueError(f"circular expressions among parameters {sorted(pending)}")
            order += [(n, pending.pop(n)) for n in ready]
        self._order = order

    def evaluate(self, values: dict) -> dict:
        """``values`` extended in place by every expression parameter: floats, or arrays (P,) where ``values`` hold
        a batch of P parameter sets."""
        if not self.exprs:
            return values
        if self._interp is None:
            self._compile()
        self._interp.symtable.update(values)
        for name, code in self._order:
            self._interp.error = []              # asteval keeps its errors, and returns None until they are cleared
            try:
                result = self._interp.run(code)
            except Exception as exc:             # asteval raises the expression's own error as an Exception
                self._interp.error = []
                raise ValueError(f"the expression {name} = {self.exprs[name]} failed: {exc}") from None
            if self._interp.error or result is None:
                self._interp.error = []
                raise ValueError(f"the expression {name} = {self.exprs[name]} gave no value")
            value = np.asarray(result, dtype=float)
            values[name] = self._interp.symtable[name] = float(value) if value.ndim == 0 else value
        return values


class _ObjectiveBase:
    """What the optimiser and the sampler ask of an objective (:class:`glassfit.contract.Posterior`): ``names``,
    ``priors``, ``logp``, ``logl``, ``logpost``, ``pointwise_logl``, ``residuals``."""

    def __init__(self, names: list[str], priors: dict):
        if not names:
            raise ValueError("no free parameters: set vary=True on at least one parameter")
        unknown = sorted(set(priors) - set(names))
        if unknown:
            raise ValueError(f"priors given for unknown or fixed parameters {unknown}; the free parameters are {names}")
        self.names = list(names)
        #: log-posterior evaluations that were not finite inside the prior support (this process)
        self.n_nonfinite = 0

    @property
    def ndim(self) -> int:
        """Number of free parameters."""
        return len(self.names)

    @property
    def parts(self) -> list:
        """The single-dataset objectives this one is made of (itself for an :class:`Objective`)."""
        return [self]

    def prior_descriptions(self) -> dict[str, dict]:
        """name → JSON-able description of its prior (:meth:`glassfit.priors.Prior.describe`), in θ order."""
        return {n: self.priors[n].describe() for n in self.names}

    def _check_theta(self, theta) -> np.ndarray:
        theta = np.asarray(theta, dtype=float)
        if theta.shape != (self.ndim,):
            raise ValueError(f"θ must have shape ({self.ndim},) for parameters {self.names}, got {theta.shape}")
        return theta

    def vector(self, value, what: str = "θ") -> np.ndarray:
        """``value`` as a θ vector: ValueError naming ``what`` unless it is ndim finite numbers."""
        arr = np.asarray(value, dtype=float)
        if arr.shape != (self.ndim,) or not np.all(np.isfinite(arr)):
            raise ValueError(f"{what} must be {self.ndim} finite numbers for {self.names}, got {value!r}")
        return arr

    def named(self, theta) -> dict:
        """θ as a dict name → value."""
        return dict(zip(self.names, self._check_theta(theta).tolist(), strict=True))

    def logp(self, theta) -> float:
        """Log-prior of θ (−inf outside the support)."""
        return float(sum(p.logp(v) for p, v in zip(self._prior_list, self._check_theta(theta).tolist(), strict=True)))

    def logl(self, theta) -> float:
        """Gaussian log-likelihood of θ."""
        return self._logl(self.named(theta))

    def pointwise_logl(self, theta) -> np.ndarray:
        """Per-point log-likelihood ln L_i (datasets concatenated in order), for PSIS-LOO/WAIC."""
        return self._pointwise(self.named(theta))

    def residuals(self, theta) -> np.ndarray:
        """Normalised residuals (y − m)/s (datasets concatenated in order)."""
        return self._residuals(self.named(theta))

    def residuals_batch(self, thetas) -> np.ndarray:
        """:meth:`residuals` of every row of ``thetas`` (P, ndim), shape (P, n): the models evaluated for up to
        :data:`glassfit.batching.BATCH_SIZE` rows in one call."""
        thetas = self._check_batch(thetas)
        return np.concatenate([self._residuals(dict(zip(self.names, thetas[part].T, strict=True)))
                               for part in batch_slices(len(thetas))]).reshape(len(thetas), -1)

    def _check_batch(self, thetas) -> np.ndarray:
        thetas = np.asarray(thetas, dtype=float)
        if thetas.ndim != 2 or thetas.shape[1] != self.ndim:
            raise ValueError(f"θ must have shape (P, {self.ndim}) for parameters {self.names}, got {thetas.shape}")
        return thetas

    def logpost_batch(self, thetas) -> np.ndarray:
        """Log-posterior of every row of ``thetas`` (P, ndim): shape (P,), each as :meth:`logpost` gives it.

        The likelihood of the rows inside the prior support is one batched evaluation of each model (its
        ``evaluate_batch``, :meth:`glassfit.models.base.GlassModel.evaluate_batch`; row by row for models without
        one) per :data:`glassfit.batching.BATCH_SIZE` rows; should that raise, those rows are evaluated one by one,
        so that only the failing ones get −inf.
        """
        thetas = self._check_batch(thetas)
        lp = np.array([sum(p.logp(v) for p, v in zip(self._prior_list, row, strict=True))
                       for row in thetas.tolist()], dtype=float).reshape(len(thetas))
        out = np.full(lp.shape, -math.inf)
        inside = np.flatnonzero(lp != -math.inf)            # a NaN prior goes on, as in logpost, and is counted
        for part in batch_slices(inside.size):
            rows = inside[part]
            try:
                with np.errstate(all="ignore"):
                    total = lp[rows] + self._logl(dict(zip(self.names, thetas[rows].T, strict=True)))
            except (ArithmeticError, ValueError):
                out[rows] = [self.logpost(row) for row in thetas[rows]]
                continue
            for i in np.flatnonzero(~np.isfinite(total)):
                self.n_nonfinite += 1
                log.warning("log-posterior not finite at %s; returning -inf", self.named(thetas[rows[i]]))
                total[i] = -math.inf
            out[rows] = total
        return out

    def logpost(self, theta) -> float:
        """Log-posterior; −inf outside the prior support, and −inf (counted in ``n_nonfinite`` and logged
        with θ) where the likelihood is not finite."""
        values = self._check_theta(theta).tolist()
        lp = 0.0
        for prior, value in zip(self._prior_list, values, strict=True):
            lp += prior.logp(value)
        if lp == -math.inf:
            return lp
        return self._guarded_logl(dict(zip(self.names, values, strict=True)), lp, "log-posterior")

    def safe_logl(self, theta) -> float:
        """Log-likelihood of θ whatever the priors say (for a nested sampler's prior transform); −inf (counted in
        ``n_nonfinite`` and logged with θ) where it is not finite or the model refuses θ."""
        return self._guarded_logl(self.named(theta), 0.0, "log-likelihood")

    def _guarded_logl(self, named: dict, lp: float, what: str) -> float:
        try:
            total, reason = lp + self._logl(named), "not finite"
        except (ArithmeticError, ValueError) as exc:
            total, reason = math.nan, f"{type(exc).__name__}: {exc}"
        if not math.isfinite(total):
            self.n_nonfinite += 1
            log.warning("%s %s at %s; returning -inf", what, reason, named)
            return -math.inf
        return total


def _normalisation(s: np.ndarray):
    """Σ ln s_i + (n/2) ln 2π over the last axis (a float, or one per set of a batch)."""
    return np.sum(np.log(s), axis=-1) + 0.5 * s.shape[-1] * _LN_2PI


class Objective(_ObjectiveBase):
    """Log-likelihood, log-prior and log-posterior of one dataset under one model.

    Parameters
    ----------
    model : lmfit.Model
        Any lmfit model (glassfit's :class:`~glassfit.models.GlassModel` gives units and default priors).
    data : glassfit.dataset.Dataset
        Its ``x`` keys must be the model's independent variables.
    params : lmfit.Parameters, optional
        Values of the fixed parameters and which ones vary (default ``model.make_params()``).
    noise : {"known", "scaled", "fitted", "absolute"}
        Noise model (module docstring).
    priors : dict, optional
        name → :class:`~glassfit.priors.Prior` or frozen scipy.stats distribution, overriding the defaults.
    card : glassfit.contract.ModelCard, optional
        What the model declares (default :func:`glassfit.contract.card_of`); a run passes the card extended by
        the ln X rows it samples.

    Examples
    --------
    >>> import numpy as np
    >>> from glassfit.models import STMHeatCapacityModel
    >>> model = STMHeatCapacityModel()
    >>> T = np.geomspace(0.1, 1.0, 5)
    >>> data = Dataset({"T": T}, model.eval(model.make_params(), T=T), 1e-7)
    >>> obj = Objective(model, data)
    >>> obj.names, round(obj.logl([1.0]), 3)
    (['P0'], 75.996)
    """

    def __init__(self, model, data: Dataset, params=None, noise: str = "known", priors: dict | None = None,
                 card: ModelCard | None = None):
        if not isinstance(model, lmfit.Model):
            raise TypeError(f"model must be an lmfit.Model, got {type(model).__name__}")
        if not isinstance(data, Dataset):
            raise TypeError(f"data must be a glassfit.dataset.Dataset, got {type(data).__name__}")
        if noise not in NOISE_MODELS:
            raise ValueError(f"noise must be one of {NOISE_MODELS}, got {noise!r}")
        params = model.make_params() if params is None else params
        if not isinstance(params, lmfit.Parameters):
            raise TypeError(f"params must be lmfit.Parameters, got {type(params).__name__}")
        missing = sorted(set(model.independent_vars) - set(data.x))
        if missing:
            raise ValueError(f"{data.id}: x lacks the model's independent variables {missing}; "
                             f"it has {sorted(data.x)}")
        if noise not in FITTED_NOISE and data.sigma is None:
            raise ValueError(f"{data.id}: noise model {noise!r} needs sigma in the data, which gives none; fit σ with "
                             "noise 'fitted' (relative to |y|) or 'absolute' (the same for every point)")
        if noise == "fitted" and np.any(data.y == 0):
            raise ValueError(f"{data.id}: noise='fitted' is relative to |y|, which has zeros (use 'absolute')")
        if noise == "absolute" and np.ptp(data.y) == 0:
            raise ValueError(f"{data.id}: noise='absolute' is a fraction of the range of y, which is 0")
        self.model, self.data, self.params, self.noise = model, data, params.copy(), noise
        self.card = card_of(model) if card is None else card
        self.model_names = [n for n, p in params.items() if p.vary]
        self._x = {k: data.x[k] for k in model.independent_vars}
        self._scale = {"fitted": np.abs(data.y), "absolute": np.full(data.n, float(np.ptp(data.y)))}.get(noise,
                                                                                                   data.sigma)
        self.fixed = {n: float(p.value) for n, p in params.items() if not p.vary and not p.expr}
        self.expressions = Expressions(params)
        self._args = [(name, name[len(model.prefix):]) for name in model.param_names]
        self.noise_name, noise_priors = None, {}
        if noise in _NOISE_PARAMETER:
            base, prior = _NOISE_PARAMETER[noise]
            self.noise_name = f"{base}[{data.id}]"
            noise_priors[self.noise_name] = prior
        self._known_norm = _normalisation(data.sigma) if noise == "known" else None
        priors = dict(priors or {})
        _ObjectiveBase.__init__(self, self.model_names + list(noise_priors), priors)
        self.priors = default_priors(self.card, params, self.model_names, {k: v for k, v in priors.items()
                                                                       if k in self.model_names})
        self.priors.update({k: as_prior(priors.get(k, v)) for k, v in noise_priors.items()})
        self._prior_list = [self.priors[n] for n in self.names]
        self.datasets = [data]

    def units(self) -> dict[str, str]:
        """Unit of each free parameter: from the model's card (:mod:`glassfit.contract`), "1" for the noise
        parameter, "" where the card has none."""
        return {n: "1" if n == self.noise_name else self.card.unit(n) for n in self.names}

    def theta(self, values: dict | lmfit.Parameters | None = None) -> np.ndarray:
        """θ (vector of the free parameters) from a mapping or Parameters; default the ``params`` values,
        noise parameters 1 ("scaled") or 0.01 ("fitted", "absolute") unless given."""
        values = self.params if values is None else values
        get = (lambda n: values[n].value) if isinstance(values, lmfit.Parameters) else values.__getitem__
        defaults = {self.noise_name: 1.0 if self.noise == "scaled" else 0.01} if self.noise_name else {}
        out = []
        for n in self.names:
            try:
                out.append(float(get(n)))
            except KeyError:
                if n not in defaults:
                    raise ValueError(f"no value for parameter {n!r}; the free parameters are {self.names}") from None
                out.append(defaults[n])
        return np.array(out)

    def values(self, named: dict) -> dict:
        """Every model parameter's value (fixed, free from ``named`` and derived), as a dict of floats (arrays (P,)
        where ``named`` holds a batch)."""
        values = self.fixed | {n: named[n] for n in self.model_names}
        return self.expressions.evaluate(values)

    def model_values(self, named: dict, x: dict | None = None) -> np.ndarray:
        """The model at the data's independent variables (or at ``x``) for the free values ``named``: floats, or
        arrays (P,) of a batch of P parameter sets, then shape (P, n)."""
        values = self.values(named)
        args = {root: values[name] for name, root in self._args}
        batch = [np.ndim(v) for v in args.values() if np.ndim(v)]
        if x is not None:                             # points from outside: the physics checks them
            return self._evaluate(x, args, batch)
        with trusted_inputs():                        # the data were checked once, when the dataset was made
            return self._evaluate(self._x, args, batch)

    def _evaluate(self, x: dict, args: dict, batch: list) -> np.ndarray:
        if not batch:
            return np.asarray(self.model.func(**x, **args), dtype=float)
        evaluate_batch = getattr(self.model, "evaluate_batch", None)
        if evaluate_batch is not None:
            return evaluate_batch(x, args)
        size = max(np.size(v) for v in args.values())
        return np.stack([np.asarray(self.model.func(**x, **{k: v if np.ndim(v) == 0 else v[i]
                                                               for k, v in args.items()}), dtype=float)
                         for i in range(size)])

    def sigma(self, named: dict) -> np.ndarray:
        """Standard deviation s_i of each point under the noise model."""
        if self.noise_name is None:
            return self._scale
        return np.asarray(named[self.noise_name], dtype=float)[..., None] * self._scale

    def _pointwise(self, named: dict) -> np.ndarray:
        s = self.sigma(named)
        z = (self.data.y - self.model_values(named)) / s
        return -0.5 * (z * z + _LN_2PI) - np.log(s)

    def _logl(self, named: dict) -> float:
        s = self.sigma(named)
        z = (self.data.y - self.model_values(named)) / s
        return -0.5 * np.sum(z * z, axis=-1) - (self._known_norm if self.noise == "known" else _normalisation(s))

    def _residuals(self, named: dict) -> np.ndarray:
        return (self.data.y - self.model_values(named)) / self.sigma(named)


class JointObjective(_ObjectiveBase):
    """Several :class:`Objective` sharing parameters by name (datasets, or observables c(T), κ(T), l(ω, T), c(T, t)).

    θ is the union of the objectives' free parameters in order of first appearance; the prior of a shared
    parameter is the first objective's unless ``priors`` (name → prior) overrides it; ln L is the sum of
    the parts.  A parameter free in one objective and fixed in another is an error (make the choice explicit).
    """

    def __init__(self, objectives, priors: dict | None = None):
        objectives = list(objectives)
        if not objectives or not all(isinstance(o, Objective) for o in objectives):
            raise TypeError("JointObjective needs a non-empty list of glassfit.objective.Objective")
        names = [o.data.id for o in objectives]
        if len(set(names)) != len(names):
            raise ValueError(f"dataset names must be distinct, got {names}")
        self.objectives = objectives
        own = {}
        for o in objectives:
            for n in o.names:
                own.setdefault(n, o)
        for o in objectives:
            clash = sorted(set(own) & set(o.fixed))
            if clash:
                raise ValueError(f"parameters {clash} are free in {own[clash[0]].data.id!r} but fixed in "
                                 f"{o.data.id!r}; make them free or fixed in both")
        super().__init__(list(own), dict(priors or {}))
        self.priors = {n: as_prior((priors or {}).get(n, own[n].priors[n])) for n in self.names}
        self._prior_list = [self.priors[n] for n in self.names]
        self._units = {n: own[n].units()[n] for n in self.names}
        self.datasets = [o.data for o in objectives]

    @property
    def parts(self) -> list:
        return list(self.objectives)

    def units(self) -> dict[str, str]:
        """Unit of each free parameter."""
        return dict(self._units)

    def theta(self, values=None) -> np.ndarray:
        """θ from a mapping or Parameters covering every free parameter; default each objective's ``params``."""
        merged = {}
        for o in self.objectives:
            merged.update(zip(o.names, o.theta(values), strict=True))
        return np.array([merged[n] for n in self.names])

    def _logl(self, named: dict) -> float:
        return sum(o._logl(named) for o in self.objectives)

    def _pointwise(self, named: dict) -> np.ndarray:
        return np.concatenate([o._pointwise(named) for o in self.objectives], axis=-1)

    def _residuals(self, named: dict) -> np.ndarray:
        return np.concatenate([o._residuals(named) for o in self.objectives], axis=-1)


__all__ = ["FITTED_NOISE", "NOISE_MODELS", "Expressions", "JointObjective", "Objective"]
