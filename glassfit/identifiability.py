"""What the data constrain: singular directions of the Jacobian at the MAP, data- versus prior-set parameters,
and the models' constrained combinations with uncertainties.

* :func:`singular_directions` — the SVD of ∂r_i/∂θ_k (r the normalised data residuals) at θ, in ln θ_k for
  positive parameters whose support spans more than a decade (so that a direction reads as a power law, e.g.
  N χ² = const) and in θ_k otherwise.  A singular value s means the data fix that combination to ±1/s.
* :func:`constraint_table` — per parameter its posterior 68 % half-width against the width the data alone
  would allow (√[(JᵀJ)⁻¹]_kk, infinite along an exact degeneracy) and against its prior's: "data" when
  the posterior is as wide as the data alone allow (ratio ≥ 0.8: the prior adds little), "prior" when it
  is as wide as the prior (≥ 0.9), "data + prior" otherwise (e.g. C of a κ(T) fit: the data fix C·v and
  the velocity prior fixes v).
* :func:`derived_quantities` — each part's ``model.derived_quantities(values, x)`` (name → (value, unit,
  description)) with an uncertainty: by the delta method from the covariance, or over posterior draws.

This module never imports physics: the combinations come from the models.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from glassfit.contract import ReportingModel
from glassfit.optimize import ONE_SIGMA, prior_half_width
from glassfit.priors import LogUniform

#: posterior/data-only and posterior/prior width ratios above which a parameter is set by the data, the prior
RATIO_DATA, RATIO_PRIOR = 0.8, 0.9
#: singular values below this fraction of the largest count as exact degeneracies
_DEGENERATE = 1e-8


@dataclass(frozen=True)
class Direction:
    """One singular direction: s (1/s = the data's 1σ along it) and its components {label: weight}, |v| = 1."""

    s: float
    components: dict

    def text(self, threshold: float = 0.1) -> str:
        terms = sorted(self.components.items(), key=lambda kv: -abs(kv[1]))
        return " ".join(f"{w:+.2f}·{name}" for name, w in terms if abs(w) >= threshold)


def _logged(objective) -> list[bool]:
    """Which parameters are differentiated in ln θ: a non-negative support spanning more than a decade."""
    out = []
    for name in objective.names:
        lo, hi = objective.priors[name].support
        out.append(bool(lo >= 0 and hi > 10 * lo))
    return out


def jacobian(objective, theta, rel_step: float = 1e-5) -> np.ndarray:
    """Central-difference ∂r/∂θ_k (∂r/∂ ln θ_k for :func:`_logged` parameters) of the normalised data residuals."""
    theta = objective.vector(theta)
    logged = _logged(objective)
    columns = []
    for k, name in enumerate(objective.names):
        width = prior_half_width(objective.priors[name])
        h = rel_step * (abs(theta[k]) if logged[k] else max(width, abs(theta[k])))
        up, down = theta.copy(), theta.copy()
        up[k] += h
        down[k] -= h
        lo, hi = objective.priors[name].support
        up[k], down[k] = min(up[k], hi), max(down[k], lo)
        column = (objective.residuals(up) - objective.residuals(down)) / (up[k] - down[k])
        columns.append(column * theta[k] if logged[k] else column)
    return np.column_stack(columns)


def thin_svd(jac) -> tuple[np.ndarray, np.ndarray]:
    """Singular values (padded with zeros to one per parameter) and right singular vectors (n × n) of the
    (points × parameters) Jacobian, without the points × points left vectors (a large file stays cheap)."""
    _, s, vt = np.linalg.svd(jac, full_matrices=jac.shape[0] < jac.shape[1])
    return np.concatenate([s, np.zeros(vt.shape[0] - s.size)]), vt


def singular_directions(objective, theta) -> list[Direction]:
    """Singular directions of the data Jacobian at θ, strongest first (module docstring)."""
    s, vt = thin_svd(jacobian(objective, theta))
    labels = [f"ln {n}" if lg else n for n, lg in zip(objective.names, _logged(objective), strict=True)]
    out = []
    for sk, v in zip(s, vt, strict=True):
        v = v * np.sign(v[np.argmax(np.abs(v))])
        out.append(Direction(float(sk), dict(zip(labels, (float(c) for c in v), strict=True))))
    return out


def verdict(data_ratio: float, prior_ratio: float) -> str:
    """"data", "data + prior" or "prior" from the posterior/data-only and posterior/prior width ratios."""
    if not np.isfinite(prior_ratio):
        return "unknown"
    if prior_ratio >= RATIO_PRIOR:
        return "prior"
    return "data" if data_ratio >= RATIO_DATA else "data + prior"


def data_widths(objective, theta) -> np.ndarray:
    """√[(JᵀJ)⁻¹]_kk in the coordinates of :func:`jacobian`: the 1σ the data alone allow (inf if degenerate)."""
    s, vt = thin_svd(jacobian(objective, theta))
    flat = s <= _DEGENERATE * max(s.max(), 1e-300)
    with np.errstate(divide="ignore"):
        variance = (vt[~flat] ** 2 / s[~flat, None] ** 2).sum(axis=0)
    variance[np.any(vt[flat] ** 2 > 1e-6, axis=0)] = np.inf
    return np.sqrt(variance)


def _prior_width(prior, logged: bool) -> float:
    if not logged:
        return prior_half_width(prior)
    lo, hi = (float(prior.ppf(q)) for q in ONE_SIGMA)
    return 0.5 * float(np.log(hi / lo))


def constraint_table(objective, theta, cov=None, draws=None) -> list[dict]:
    """Rows {name, coordinate, posterior_width, data_width, prior_width, ratio, set_by}: 68 % half-widths of the
    posterior (√cov_kk, or half the 16–84 % range of ``draws``), of the data alone (:func:`data_widths`) and of
    the prior, in ln θ_k for the parameters :func:`jacobian` takes in logarithms (a scale prior's width is
    then its width in e-folds, not the distance to its upper tail); ``ratio`` = posterior/prior."""
    theta = objective.vector(theta)
    data = data_widths(objective, theta)
    rows = []
    for k, (name, logged) in enumerate(zip(objective.names, _logged(objective), strict=True)):
        if draws is not None:
            values = np.log(draws[:, k]) if logged else draws[:, k]
            q16, q84 = np.percentile(values, [16, 84])
            post = 0.5 * float(q84 - q16)
        else:
            post = float(np.sqrt(max(cov[k, k], 0.0)))
            post = post / abs(theta[k]) if logged else post
        prior = _prior_width(objective.priors[name], logged)
        ratio = post / prior if prior > 0 else float("nan")
        rows.append({"name": name, "coordinate": f"ln {name}" if logged else name, "posterior_width": post,
                     "data_width": float(data[k]), "prior_width": prior, "ratio": ratio,
                     "set_by": verdict(post / data[k], ratio)})
    return rows


def _derived_at(objective, theta) -> dict:
    """{name: (value, unit, description)} of every part's model at θ (several parts: names get ``[dataset]``)."""
    named, out = objective.named(theta), {}
    parts = objective.parts
    for part in (p for p in parts if isinstance(p.model, ReportingModel)):
        quantities = part.model.derived_quantities(part.values(named), part.data.x)
        for name, entry in quantities.items():
            out[name if len(parts) == 1 else f"{name}[{part.data.id}]"] = entry
    return out


def derived_quantities(objective, theta, cov=None, draws=None) -> list[dict]:
    """Rows {name, unit, value, error | q16, q84, description} of the models' constrained combinations.

    With ``cov``: value at θ and the delta-method 1σ error √(g Σ gᵀ) (central differences in θ).  With
    ``draws`` (an (n, ndim) array of posterior samples): the median and 16/84 % quantiles over them.
    """
    at = _derived_at(objective, theta)
    rows = []
    if draws is not None:
        samples = {}
        for d in draws:
            for name, (value, _, _) in _derived_at(objective, d).items():
                samples.setdefault(name, []).append(value)
        for name, (_, unit, text) in at.items():
            q16, q50, q84 = np.nanpercentile(samples[name], [16, 50, 84])
            rows.append({"name": name, "unit": unit, "value": float(q50), "q16": float(q16), "q84": float(q84),
                         "description": text})
        return rows
    theta = objective.vector(theta)
    grads = {name: np.zeros(objective.ndim) for name in at}
    if cov is not None:
        for k, name in enumerate(objective.names):
            h = 1e-5 * (abs(theta[k]) or prior_half_width(objective.priors[name]))
            lo, hi = objective.priors[name].support
            up, down = theta.copy(), theta.copy()
            up[k], down[k] = min(theta[k] + h, hi), max(theta[k] - h, lo)
            plus, minus = _derived_at(objective, up), _derived_at(objective, down)
            for q in at:
                grads[q][k] = (plus[q][0] - minus[q][0]) / (up[k] - down[k])
    for name, (value, unit, text) in at.items():
        error = float(np.sqrt(max(grads[name] @ np.asarray(cov) @ grads[name], 0.0))) if cov is not None else None
        rows.append({"name": name, "unit": unit, "value": float(value), "error": error, "description": text})
    return rows


def bound_warnings(objective, theta, rtol: float = 1e-6) -> list[str]:
    """One line per free parameter that sits on a finite edge of its prior support at θ (within ``rtol`` of the
    support's width, in ln x for a log-uniform prior, whose support spans decades)."""
    out = []
    for name, value in zip(objective.names, objective.vector(theta), strict=True):
        prior = objective.priors[name]
        lo, hi = prior.support
        log = isinstance(prior, LogUniform)
        for edge, side in ((lo, "lower"), (hi, "upper")):
            span = hi - lo if np.isfinite(hi - lo) else max(abs(edge), abs(value))
            near = (abs(np.log(value / edge)) <= rtol * np.log(hi / lo) if log and value > 0 else
                    abs(value - edge) <= rtol * span)
            if np.isfinite(edge) and near:
                out.append(f"{name} = {value:.6g} is on the {side} edge of its prior support [{lo:g}, {hi:g}]: "
                           "the data pull it further, and its error bar is not a measurement")
    return out


def insensitive_warnings(objective, theta) -> list[str]:
    """One line per free parameter on which no residual depends at θ (a zero column of the Jacobian)."""
    norms = np.linalg.norm(jacobian(objective, theta), axis=0)
    scale = max(float(norms.max()), 1e-300)
    return [f"the data do not depend on {name} at the optimum (∂r/∂{name} = 0): its value and error are the "
            "prior's alone" for name, norm in zip(objective.names, norms, strict=True) if norm <= 1e-12 * scale]


def warnings_at(objective, theta) -> list[str]:
    """Parameters on a bound (:func:`bound_warnings`) or that no residual depends on
    (:func:`insensitive_warnings`), then the models' validity warnings at θ, each prefixed by its dataset when
    there are several."""
    named, parts = objective.named(theta), objective.parts
    out = bound_warnings(objective, theta) + insensitive_warnings(objective, theta)
    for part in (p for p in parts if isinstance(p.model, ReportingModel)):
        for line in part.model.validity_warnings(part.values(named), part.data.x):
            out.append(line if len(parts) == 1 else f"{part.data.id}: {line}")
    return out


__all__ = [
    "RATIO_DATA",
    "RATIO_PRIOR",
    "Direction",
    "constraint_table",
    "data_widths",
    "derived_quantities",
    "jacobian",
    "singular_directions",
    "thin_svd",
    "verdict",
    "warnings_at",
]
