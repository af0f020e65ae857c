"""Figures of a posterior: data with the median model, 68/95 % posterior bands and residuals; corner; traces.

Matplotlib (and corner) are imported inside the functions, on a bare :class:`matplotlib.figure.Figure`
(no pyplot state), so importing glassfit stays fast and figures are reproducible: the posterior draws
behind a band come from a fixed ``seed`` and a fixed number ``draws``.  Labels take units from the
models' parameter tables; whether data are "synthetic" is for the caller's ``title``.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np

from glassfit.batching import batch_slices
from glassfit.loading import VARIABLES
from glassfit.results import Posterior, derived_unit

#: units of the independent variables glassfit's models take (those of the data files)
X_UNITS = {name: unit for name, (_, unit) in VARIABLES.items()}
_LEVELS = (2.5, 16.0, 50.0, 84.0, 97.5)


#: resolution of the figures written to files (print quality)
DPI = 200
#: power of T the fit figures divide by: c/T and κ/T² are flat for a constant TLS density, so the data, their
#: error bars and the bands stay visible where c and κ themselves span decades
VIEW_POWERS = {"heat_capacity": 1, "time_heat": 1, "conductivity": 2}
SUPERSCRIPTS = {1: "", 2: "²", 3: "³", 4: "⁴"}
#: axis label of each observable (the dataset's ``observable``)
OBSERVABLE_SYMBOLS = {"heat_capacity": "c", "conductivity": "κ", "attenuation": "attenuation",
                      "velocity": "δv/v", "time_heat": "c(T, t)", "loss": "1/Q_i", "frequency_shift": "δf/f",
                      "heat_release": "Q̇"}


def _part(objective, dataset):
    """The single-dataset Objective named ``dataset`` (or at index ``dataset``; default the first)."""
    parts = objective.parts
    if dataset is None:
        return parts[0]
    if isinstance(dataset, int | np.integer):
        if not 0 <= dataset < len(parts):
            raise ValueError(f"dataset index {dataset} out of range; there are {len(parts)} datasets")
        return parts[dataset]
    for part in parts:
        if part.data.id == dataset:
            return part
    raise ValueError(f"no dataset {dataset!r}; the datasets are {[p.data.id for p in parts]}")


def _draws(posterior: Posterior, draws: int, rng, discard):
    if not isinstance(draws, int | np.integer) or draws < 1:
        raise ValueError(f"draws must be a positive integer, got {draws!r}")
    samples = posterior.samples(discard)
    return samples[rng.choice(len(samples), size=min(draws, len(samples)), replace=False)]


def predictive_band(posterior: Posterior, objective, x: dict | None = None, dataset=None, draws: int = 200, seed=0,
                    discard: int | None = None, noise: bool = False) -> dict[str, np.ndarray]:
    """Posterior band of the model at the independent variables ``x`` (dict name → array; default the data's).

    The model is evaluated at ``draws`` posterior samples drawn with ``seed``; returns the pointwise
    median and the 68 % ("lo68", "hi68") and 95 % ("lo95", "hi95") central intervals.  ``noise=True``
    adds each draw's Gaussian noise s_i (at the data points only): the posterior-predictive band of new data.
    """
    posterior.check(objective)
    part = _part(objective, dataset)
    if noise and x is not None:
        raise ValueError("the noise of the posterior-predictive band is defined at the data points; leave x=None")
    x = part.data.x if x is None else x
    missing = sorted(set(part.model.independent_vars) - set(x))
    if missing:
        raise ValueError(f"x lacks the independent variables {missing} of the model")
    x = {k: np.asarray(x[k], float) for k in part.model.independent_vars}
    rng = np.random.default_rng(seed)
    thetas = _draws(posterior, draws, rng, discard)
    named = dict(zip(objective.names, thetas.T, strict=True))         # every draw at once (a batch)
    curves = np.concatenate([part.model_values({n: v[chunk] for n, v in named.items()}, x)
                             for chunk in batch_slices(len(thetas))])
    if noise:
        curves = curves + rng.normal(size=curves.shape) * part.sigma(named)
    lo95, lo68, median, hi68, hi95 = np.percentile(curves, _LEVELS, axis=0)
    return {"median": median, "lo68": lo68, "hi68": hi68, "lo95": lo95, "hi95": hi95}


#: characters per title line of the fit and trace figures (6.4 and 7 inch wide at the medium font size)
TITLE_WIDTH = 64


def _wrapped(title: str) -> str:
    """``title`` broken into lines of at most :data:`TITLE_WIDTH` characters, so that it stays inside the figure."""
    return textwrap.fill(title, TITLE_WIDTH)


def _axis_label(name, unit):
    return f"{name} ({unit})" if unit and unit != "1" else name


def _groups(part):
    """(primary variable, list of (label, mask, fixed values of the other variables)) of a dataset."""
    names = list(part.model.independent_vars)
    primary = next(n for n in ("t", "T", names[0]) if n in names)        # c(T, t) is read against ln t
    others = [n for n in names if n != primary]
    if not others:
        return primary, [("", np.ones(part.data.y.size, bool), {})]
    keys = np.stack([part.data.x[n] for n in others], axis=1)
    groups = []
    for key in np.unique(keys, axis=0):
        mask = np.all(keys == key, axis=1)
        fixed = dict(zip(others, key.tolist(), strict=True))
        label = ", ".join(f"{n} = {v:.3g} {X_UNITS.get(n, '')}".rstrip() for n, v in fixed.items())
        groups.append((label, mask, fixed))
    return primary, groups


#: more combinations of the other independent variables than this (one per point, e.g. a photon number that moves
#: with Q_l) and a fit figure shows the model at the data points, coloured by that variable, instead of curves;
#: up to 10 curves take the colour cycle, more a viridis sequence
MAX_CURVES = 24


def _draw_points(part, curves, what, sigma, primary, fig, top, bottom):
    """The fit figure's panels when the other variables take too many values for one curve each: data and the
    model at each point (a bar), coloured on a log scale by the other variable that varies most."""
    from matplotlib.colors import LogNorm, Normalize

    data = part.data
    others = [n for n in data.x if n != primary]
    colour_by = max(others, key=lambda n: np.ptp(np.log(data.x[n])) if np.all(data.x[n] > 0) else np.ptp(data.x[n]))
    c = data.x[colour_by]
    norm = LogNorm(c.min(), c.max()) if c.min() > 0 and c.max() > 3 * c.min() else Normalize(c.min(), c.max())
    band = curves(data.x, data.id)
    xs = data.x[primary]
    if "lo68" in band:
        top.vlines(xs, band["lo68"], band["hi68"], colors="0.5", lw=2.5, alpha=0.5, label="68 % band at the points")
    top.errorbar(xs, data.y, sigma, fmt="none", ecolor="0.7", lw=0.6, capsize=0)
    dots = top.scatter(xs, data.y, c=c, norm=norm, cmap="viridis", s=10, label="data")
    top.scatter(xs, band["median"], c=c, norm=norm, cmap="viridis", marker="_", s=60, label=f"{what} model")
    bottom.scatter(xs, (data.y - band["median"]) / sigma, c=c, norm=norm, cmap="viridis", s=10)
    fig.colorbar(dots, ax=[top, bottom], label=_axis_label(colour_by, X_UNITS.get(colour_by, "")))


def _save(fig, path):
    if path is not None:
        fig.savefig(Path(path), dpi=DPI)
    return fig


def plot_fit(posterior: Posterior, objective, dataset=None, draws: int = 200, seed=0, title: str | None = None,
             path=None, n_grid: int = 200, power: int | None = None):
    """Data with error bars, the median model and its 68/95 % posterior bands (top), normalised residuals
    (y − median)/s (bottom), on log axes; one colour per value of the other independent variables.

    ``power``: the top panel shows y/T^power (None: the observable's view of :data:`VIEW_POWERS`; 0: y itself;
    3 for c/T³, flat for Debye phonons, where the TLS excess and the soft-vibration bump stand out).

    Returns the :class:`matplotlib.figure.Figure` (also written to ``path`` if given).
    """
    posterior.check(objective)
    median_theta = np.median(posterior.samples(), axis=0)

    def curves(x, name):
        return predictive_band(posterior, objective, x, name, draws, seed)

    return _draw(objective, dataset, median_theta, curves, "median", title, path, n_grid, power)


def plot_best_fit(theta, objective, dataset=None, title: str | None = None, path=None, n_grid: int = 200,
                  power: int | None = None):
    """As :func:`plot_fit` for a single parameter vector θ (e.g. least squares): the model curve and the
    normalised residuals, no bands."""
    theta = np.asarray(theta, float)
    if theta.shape != (objective.ndim,):
        raise ValueError(f"theta must have {objective.ndim} values ({objective.names}), got shape {theta.shape}")
    part = _part(objective, dataset)

    def curves(x, _):
        return {"median": part.model_values(objective.named(theta), x)}

    return _draw(objective, dataset, theta, curves, "best fit", title, path, n_grid, power)


def _draw(objective, dataset, theta, curves, what, title, path, n_grid, power):
    """The figure of :func:`plot_fit`; ``curves(x, dataset name)`` gives "median" and optionally the bands."""
    from matplotlib import colormaps
    from matplotlib.figure import Figure

    part = _part(objective, dataset)
    if not isinstance(n_grid, int | np.integer) or n_grid < 2:
        raise ValueError(f"n_grid must be an integer ≥ 2, got {n_grid!r}")
    data = part.data
    primary, groups = _groups(part)
    sigma = part.sigma(objective.named(theta))
    fig = Figure(figsize=(6.4, 6.0), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(3, 1))
    banded = False
    observable = data.observable
    if power is None:
        power = VIEW_POWERS.get(observable, 0)
    if not isinstance(power, int | np.integer) or not 0 <= power <= 4:
        raise ValueError(f"power must be an integer from 0 to 4 (the view y/T^power), got {power!r}")
    power = power if "T" in data.x else 0

    def view(x, values):                   # the view physicists read: c/T, κ/T² (the TLS part flat in T)
        return values / np.asarray(x["T"], float) ** power if power else values

    if len(groups) > MAX_CURVES:
        _draw_points(part, curves, what, sigma, primary, fig, top, bottom)
        groups = []
    colours = ([f"C{k}" for k in range(len(groups))] if len(groups) <= 10 else
               [colormaps["viridis"](k / (len(groups) - 1)) for k in range(len(groups))])
    for (label, mask, fixed), colour in zip(groups, colours, strict=True):
        xs = data.x[primary][mask]
        grid = np.geomspace(xs.min(), xs.max(), n_grid) if xs.min() > 0 else np.linspace(xs.min(), xs.max(), n_grid)
        at_grid = {primary: grid, **fixed}
        band = {k: view(at_grid, v) for k, v in curves(at_grid, data.id).items()}
        if "lo95" in band:
            banded = True
            top.fill_between(grid, band["lo95"], band["hi95"], color=colour, alpha=0.15, lw=0)
            top.fill_between(grid, band["lo68"], band["hi68"], color=colour, alpha=0.3, lw=0)
        top.plot(grid, band["median"], color=colour, lw=1.2, label=label or f"{what} model")
        at_points = {n: v[mask] for n, v in data.x.items()}
        top.errorbar(xs, view(at_points, data.y[mask]), view(at_points, sigma[mask]), fmt="o", ms=3, color=colour,
                     mfc="none", lw=0.8, capsize=2)
        at_data = curves(at_points, data.id)["median"]
        bottom.plot(xs, (data.y[mask] - at_data) / sigma[mask], "o", ms=3, color=colour, mfc="none")
    bottom.axhline(0.0, color="0.3", lw=0.8)
    positive = np.all(data.x[primary] > 0)
    for ax in (top, bottom):
        ax.set_xscale("log" if positive else "linear")
    top.set_yscale("log" if np.all(data.y > 0) else "linear")
    symbol = OBSERVABLE_SYMBOLS.get(observable, data.id)
    unit = part.card.output
    if power:
        per_t = f"K^-{power}"
        symbol, unit = f"{symbol} / T{SUPERSCRIPTS[power]}", per_t if unit in ("", "1") else f"{unit} {per_t}"
    top.set_ylabel(_axis_label(symbol, unit))
    bottom.set_ylabel(f"(y − {what})/s")
    bottom.set_xlabel(_axis_label(primary, X_UNITS.get(primary, "")))
    top.legend(fontsize="small", **({"title": "bands: 68 %, 95 %", "title_fontsize": "small"} if banded else {}))
    if title:
        top.set_title(_wrapped(title), fontsize="medium")
    return _save(fig, path)


def _symbols(objective, names) -> list[str]:
    """The card's LaTeX symbol of each parameter, else its name."""
    rows = [next((part.card.row(n) for part in objective.parts if part.card.row(n) is not None), None) for n in names]
    return [n if row is None else f"${row.latex}$" for n, row in zip(names, rows, strict=True)]


def _labels(objective, names) -> list[str]:
    """Axis labels: the symbol with the unit in brackets (:func:`glassfit.results.derived_unit`)."""
    out = []
    for n, symbol in zip(names, _symbols(objective, names), strict=True):
        unit = derived_unit(objective, n)
        out.append(f"{symbol} [{unit}]" if unit and unit != "1" else symbol)
    return out


def number_format(values) -> str:
    """A format spec for a posterior with these samples: two significant digits of its 68 % width."""
    q16, med, q84 = np.percentile(values, [16, 50, 84])
    width = max(q84 - q16, 1e-300) / 2
    if med != 0 and not 1e-3 <= abs(med) < 1e5:
        digits = max(0, int(np.floor(np.log10(abs(med)))) - int(np.floor(np.log10(width))) + 1)
        return f".{digits}e"
    return f".{max(0, 1 - int(np.floor(np.log10(width))))}f"


def corner_plot(posterior: Posterior, objective, derived_values: dict | None = None, title: str | None = None,
                path=None, discard: int | None = None, truths: dict | None = None):
    """Corner plot (corner.py) of the free parameters (and ``derived_values`` of equal length, e.g. from
    :func:`glassfit.results.derived` with ``max_draws=None``), units in the labels and a number format per
    parameter from its posterior width in the diagonal titles; ``truths`` (name → value, e.g. the true
    parameters of synthetic data) are drawn as lines."""
    import corner
    from matplotlib.figure import Figure

    posterior.check(objective)
    samples = posterior.samples(discard)
    names = list(posterior.names)
    for name, values in (derived_values or {}).items():
        values = np.asarray(values, float)
        if values.shape != (len(samples),):
            raise ValueError(f"derived {name!r} has {values.size} values, the samples {len(samples)}")
        samples, names = np.column_stack([samples, values]), [*names, name]
    labels, symbols = _labels(objective, names), _symbols(objective, names)
    ndim = len(names)
    fig = Figure(figsize=(2.0 * ndim + 1, 2.0 * ndim + 1))
    corner.corner(samples, labels=labels, fig=fig, quantiles=(0.16, 0.5, 0.84), show_titles=False,
                  label_kwargs={"fontsize": "small"}, max_n_ticks=3)
    axes = np.array(fig.axes).reshape(ndim, ndim)
    marks = [(truths or {}).get(n) for n in names]
    for i in range(ndim):
        for j in range(i + 1):
            if marks[j] is not None:
                axes[i, j].axvline(marks[j], color="C3", lw=1)
            if j < i and marks[i] is not None:
                axes[i, j].axhline(marks[i], color="C3", lw=1)
    for i in range(ndim):
        q16, med, q84 = np.percentile(samples[:, i], [16, 50, 84])
        fmt = number_format(samples[:, i])
        axes[i, i].set_title(f"{symbols[i]} = {med:{fmt}}$^{{+{q84 - med:{fmt}}}}_{{-{med - q16:{fmt}}}}$",
                             fontsize="small")                   # the unit is on the axis below
    if title:                          # above the diagonal titles: keep 0.8 inch free at the top
        height = fig.get_figheight()
        fig.subplots_adjust(top=min(fig.subplotpars.top, 1.0 - 0.8 / height))
        fig.suptitle(title, y=1.0 - 0.15 / height, va="top")
    return _save(fig, path)


def trace_plot(posterior: Posterior, objective, title: str | None = None, path=None):
    """Every walker's trace per parameter, burn-in shaded, N/τ in the legend."""
    from matplotlib.figure import Figure

    posterior.check(objective)
    ndim = len(posterior.names)
    fig = Figure(figsize=(7.0, 1.6 * ndim + 0.6), layout="constrained")
    axes = np.atleast_1d(fig.subplots(ndim, 1, sharex=True))
    steps = np.arange(1, posterior.nsteps + 1)
    tau = posterior.tau
    for i, (ax, label) in enumerate(zip(axes, _labels(objective, posterior.names), strict=True)):
        ax.plot(steps, posterior.chain[:, :, i], color="k", alpha=0.25, lw=0.5)
        ax.axvspan(0, posterior.burn_in(), color="0.85", lw=0)
        ax.set_ylabel(label, fontsize="small")
        if tau is not None:
            ax.text(0.99, 0.95, f"N/τ = {posterior.nsteps / tau[i]:.0f}", transform=ax.transAxes, ha="right",
                    va="top", fontsize="small")
    axes[-1].set_xlabel("step")
    if title:
        axes[0].set_title(_wrapped(title), fontsize="medium")
    return _save(fig, path)


__all__ = ["X_UNITS", "corner_plot", "number_format", "plot_best_fit", "plot_fit", "predictive_band", "trace_plot"]
