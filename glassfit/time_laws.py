"""Can a time-domain experiment tell the KKI law from the STM's?  A study kind on SYNTHETIC data (``discrimination``).

Each cell is a truth × a design.  A truth is one law at fixed parameter values (or ``closest_to`` another truth:
the law's curve nearest the other's noise-free data of the same design, by least squares over its free
parameters — the hardest case for telling them apart).  A design is an experiment (``time_heat``: c(T, t);
``heat_release``: Q̇ after a quench) on a grid with a relative noise (:mod:`glassfit.designs`).  Every replicate
draws the data (σ = noise · the truth's curve, known), fits both laws by maximum likelihood inside their prior
support after a global search (:func:`glassfit.optimize.map_fit`, multistart), and records χ², BIC = χ² + k ln n
and ΔBIC = BIC(other law) − BIC(truth's law): positive when the truth's law is preferred.

The search of a replicate is a multistart of its own (``screen`` points, ``starts`` local fits) plus local fits
from the optima of the same law on the cell's noise-free data (within Δχ² = :data:`NOISE_FREE_WINDOW` of the best),
which a full multistart (``truth_screen``, ``truth_starts``) finds once per cell and process: noise of a few per
cent moves the optima of these ridged likelihoods more than it creates new basins, so the replicate's search
mostly starts inside the basins that matter (docs/studies/time_laws.py --check measures how often it ends above
the full search: 1 fit in 48, by Δχ² = 0.35, in its first run).

The kind's section of a study file (glassfit.study)::

    [discrimination]
    starts = 2                 # local fits from a replicate's own screening, per law (default 2)
    screen = 20                # Latin-hypercube points a replicate screens, per law (default 20)
    truth_starts = 8           # the same for the search on the noise-free data (default 8)
    truth_screen = 80          # (default 80)
    search = "study"           # or "full": every replicate the full multistart alone (the check of "study")

    [discrimination.law.kki]   # the two laws, "kki" and "stm": their model per experiment, free rows and priors
    models = { time_heat = "kki_time_heat", heat_release = "kki_heat_release" }
    free = { eta_c = "uniform(0.3, 1.5)", xi_c = "uniform(0.3, 1.7)", log10_N = "uniform(26.5, 29)",
             chi_1 = "uniform(0.1, 2)" }
    tie = { chi_2 = "chi_1" }
    options = { time_heat = { window = "exponential" } }

    [[discrimination.truth]]
    name = "kki-reference"
    law = "kki"
    values = {}                # the reference glass; or e.g. { eta_c = 1.5, xi_c = 1.7 }
    [[discrimination.truth]]
    name = "stm-closest"
    law = "stm"
    closest_to = "kki-reference"

    [[discrimination.design]]
    name = "c(T, t), 3 decades"
    experiment = "time_heat"
    T = [0.05, 0.1, 0.2]
    t = { geomspace = [1e-6, 1e-3, 13] }
    noise = 0.01
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from glassfit import designs

LAWS = ("kki", "stm")
SEARCHES = ("study", "full")
EXPERIMENTS = ("time_heat", "heat_release")
_SETTINGS = {"starts": 2, "screen": 20, "truth_starts": 8, "truth_screen": 80}
#: optima of the noise-free fit within this Δχ² of its best seed every replicate's search
NOISE_FREE_WINDOW = 20.0


@dataclass(frozen=True)
class Law:
    """One law: its model id per experiment, model options per experiment, free rows with prior texts, ties."""

    name: str
    models: tuple[tuple[str, str], ...]
    free: tuple[tuple[str, str], ...]
    tie: tuple[tuple[str, str], ...] = ()
    options: str = "{}"                       # JSON: experiment → model options


@dataclass(frozen=True)
class Truth:
    name: str
    law: str
    values: tuple[tuple[str, float], ...] = ()
    closest_to: str | None = None


@dataclass(frozen=True)
class Design:
    name: str
    experiment: str
    raw: str                                   # JSON of the grid table (variables, noise, paired)


@dataclass(frozen=True)
class Plan:
    """A discrimination study (module docstring): laws, truths, designs and the global-search settings."""

    laws: tuple[Law, ...]
    truths: tuple[Truth, ...]
    designs: tuple[Design, ...]
    starts: int = 2
    screen: int = 20
    truth_starts: int = 8
    truth_screen: int = 80
    search: str = field(default="study", compare=False)     # not compared: the per-cell caches do not depend on it

    @property
    def cells(self) -> list[str]:
        return [f"{truth.name} | {design.name}" for truth in self.truths for design in self.designs]

    def cell(self, index: int) -> tuple[Truth, Design]:
        return self.truths[index // len(self.designs)], self.designs[index % len(self.designs)]

    def law(self, name: str) -> Law:
        return next(law for law in self.laws if law.name == name)


def _law(name: str, raw: dict) -> Law:
    from glassfit import models
    from glassfit.priors import prior_from_text

    where = f"[discrimination.law.{name}]"
    unknown = sorted(set(raw) - {"models", "free", "tie", "options"})
    if unknown:
        raise ValueError(f"{where} has unknown keys {unknown}")
    chosen = dict(raw.get("models", {}))
    if set(chosen) - set(EXPERIMENTS) or any(m not in models.REGISTRY for m in chosen.values()):
        raise ValueError(f"{where}: models maps experiments {EXPERIMENTS} to registry ids, got {chosen}")
    free = dict(raw.get("free", {}))
    if not free:
        raise ValueError(f"{where}: free = {{NAME = \"prior(...)\", ...}} names the fitted parameters")
    for text in free.values():
        prior_from_text(text)
    options = dict(raw.get("options", {}))
    if set(options) - set(chosen):
        raise ValueError(f"{where}: options are per experiment of models {sorted(chosen)}, got {sorted(options)}")
    return Law(name, tuple(sorted(chosen.items())), tuple(free.items()), tuple(dict(raw.get("tie", {})).items()),
               json.dumps(options, sort_keys=True))


def parse(section: dict, where: Path) -> Plan:
    """The [discrimination] section of a study file as a :class:`Plan`; ValueError if malformed."""
    unknown = sorted(set(section) - set(_SETTINGS) - {"search", "law", "truth", "design"})
    if unknown:
        raise ValueError(f"[discrimination] has unknown keys {unknown}")
    settings = designs.settings(section, _SETTINGS, "[discrimination]")
    settings["search"] = section.get("search", "study")
    if settings["search"] not in SEARCHES:
        raise ValueError(f"[discrimination] search must be one of {list(SEARCHES)}, got {settings['search']!r}")
    laws_raw = dict(section.get("law", {}))
    if sorted(laws_raw) != sorted(LAWS):
        raise ValueError(f"[discrimination] declares the laws {sorted(laws_raw)}; it needs exactly {list(LAWS)}")
    laws = tuple(_law(name, laws_raw[name]) for name in LAWS)
    truths = []
    for raw in section.get("truth", ()):
        if not isinstance(raw, dict) or not raw.get("name") or raw.get("law") not in LAWS:
            raise ValueError(f"[[discrimination.truth]] needs a name and law = one of {list(LAWS)}, got {raw!r}")
        truths.append(Truth(raw["name"], raw["law"], tuple(sorted(dict(raw.get("values", {})).items())),
                            raw.get("closest_to")))
    names = [t.name for t in truths]
    for truth in truths:
        if truth.closest_to is not None and truth.closest_to not in names:
            raise ValueError(f"truth {truth.name!r}: closest_to names no truth ({names})")
    designs_ = []
    for raw in section.get("design", ()):
        raw = dict(raw)
        name, experiment = raw.pop("name", None), raw.pop("experiment", None)
        if not name or experiment not in EXPERIMENTS:
            raise ValueError(f"[[discrimination.design]] needs a name and experiment = one of {list(EXPERIMENTS)}")
        for law in laws:
            model = dict(law.models).get(experiment)
            if model is None:
                raise ValueError(f"design {name!r}: law {law.name!r} has no model of {experiment}")
            designs.parse_part(raw, f"design {name!r}", model)           # checked against both laws' models
        designs_.append(Design(name, experiment, json.dumps(raw, sort_keys=True)))
    if not truths or not designs_:
        raise ValueError("[discrimination] needs at least one [[discrimination.truth]] and one "
                         "[[discrimination.design]]")
    if len(set(names)) != len(names) or len({d.name for d in designs_}) != len(designs_):
        raise ValueError("[discrimination] truth and design names must be distinct")
    return Plan(laws, tuple(truths), tuple(designs_), **settings)


# ---------------------------------------------------------------- one replicate
@cache
def _part(law: Law, design: Design) -> designs.Part:
    raw = json.loads(design.raw) | {"options": json.loads(law.options).get(design.experiment, {})}
    return designs.parse_part(raw, f"design {design.name!r}", dict(law.models)[design.experiment])


def _objective(law: Law, design: Design, y, sigma, values=None):
    from glassfit.dataset import Dataset
    from glassfit.objective import Objective
    from glassfit.priors import prior_from_text

    part = _part(law, design)
    model = designs.model(part)
    params = designs.parameters(model, dict(law.free), law.tie, values)
    data = Dataset(designs.points(part), y, sigma, id=f"{law.name}-{design.name}", nature="synthetic")
    return Objective(model, data, params=params, priors={n: prior_from_text(t) for n, t in law.free})


def _search(objective, starts, screen, seed, starts_at=()):
    from glassfit import optimize

    return optimize.map_fit(objective, starts=starts, screen=screen, seed=seed, use_priors=False, starts_at=starts_at)


@cache
def noise_free_optima(plan: Plan, cell: int, law_name: str) -> tuple[np.ndarray, ...]:
    """θ of the distinct optima of law ``law_name`` on cell ``cell``'s noise-free data (σ the design's), within
    Δχ² = :data:`NOISE_FREE_WINDOW` of the best, best first: the full multistart (truth_screen, truth_starts)."""
    truth, design = plan.cell(cell)
    curve = truth_curve(plan, cell)
    objective = _objective(plan.law(law_name), design, curve, _part(plan.law(truth.law), design).noise * np.abs(curve))
    found = _search(objective, plan.truth_starts, plan.truth_screen, seed=0)
    return tuple(o.theta for o in found.optima if o.chisqr <= found.best.chisqr + NOISE_FREE_WINDOW)


@cache
def truth_curve(plan: Plan, cell: int) -> np.ndarray:
    """The noise-free data of cell ``cell``: the truth's law at its values, or its closest curve to the other
    truth's (fitted with the design's noise as weights, seeded)."""
    truth, design = plan.cell(cell)
    law = plan.law(truth.law)
    part = _part(law, design)
    model = designs.model(part)
    if truth.closest_to is None:
        params = designs.parameters(model, (), law.tie, dict(truth.values))
        return np.asarray(model.eval(params, **designs.points(part)), float)
    other = [t.name for t in plan.truths].index(truth.closest_to)
    target = truth_curve(plan, other * len(plan.designs) + plan.designs.index(design))
    objective = _objective(law, design, target, part.noise * target)
    found = _search(objective, plan.truth_starts, plan.truth_screen, seed=0)
    return np.asarray(objective.model_values(objective.named(found.best.theta)), float)


def run_replicate(plan: Plan, cell: int, seed: np.random.SeedSequence) -> dict:
    """One replicate of cell ``cell``: both laws' χ² and BIC, ΔBIC (other − truth's) and their fitted values,
    after the plan's search (module docstring)."""
    truth, design = plan.cell(cell)
    data_seed, fit_seed = designs.children(seed, 2)
    curve = truth_curve(plan, cell)
    sigma = _part(plan.law(truth.law), design).noise * np.abs(curve)
    y = curve + sigma * np.random.default_rng(data_seed).standard_normal(curve.shape)
    row, bic = {}, {}
    search_seed = int(fit_seed.generate_state(1)[0])
    for law in plan.laws:
        objective = _objective(law, design, y, sigma)
        if plan.search == "full":
            found = _search(objective, plan.truth_starts, plan.truth_screen, search_seed)
        else:
            found = _search(objective, plan.starts, plan.screen, search_seed, noise_free_optima(plan, cell, law.name))
        chi2, best = found.best.chisqr, objective.named(found.best.theta)
        bic[law.name] = chi2 + objective.ndim * math.log(y.size)
        row[f"chi2[{law.name}]"], row[f"bic[{law.name}]"] = chi2, bic[law.name]
        row.update({f"{law.name}.{name}": value for name, value in best.items()})
    other = next(name for name in LAWS if name != truth.law)
    row["delta_bic"] = bic[other] - bic[truth.law]
    return row


# ---------------------------------------------------------------- summary
def _span(design: Design) -> float:
    """Decades of t the design spans."""
    model = {"time_heat": "black_time_heat", "heat_release": "black_heat_release"}[design.experiment]
    t = designs.points(designs.parse_part(json.loads(design.raw), design.name, model))["t"]
    return float(np.log10(t.max() / t.min()))


def summary_table(plan: Plan, tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per cell: truth, design, experiment, decades of t, replicates, the share in which the truth's law
    wins (ΔBIC > 0) with its exact (Clopper–Pearson) 95 % interval, and the 16/50/84 % quantiles of ΔBIC."""
    from scipy.stats import binomtest

    rows = []
    for index, label in enumerate(plan.cells):
        if label not in tables:
            continue
        truth, design = plan.cell(index)
        delta = tables[label]["delta_bic"].to_numpy()
        wins = int(np.sum(delta > 0))
        interval = binomtest(wins, delta.size).proportion_ci(0.95, method="exact")
        q16, q50, q84 = np.percentile(delta, [16, 50, 84])
        rows.append({"truth": truth.name, "design": design.name, "experiment": design.experiment,
                     "decades": _span(design), "replicates": delta.size, "truth_wins": wins / delta.size,
                     "truth_wins_low": interval.low, "truth_wins_high": interval.high, "delta_bic_16": q16,
                     "delta_bic_50": q50, "delta_bic_84": q84})
    return pd.DataFrame(rows)


def plot(table: pd.DataFrame):
    """Per truth and experiment against the decades of t: the share of replicates the truth's law wins with its
    exact 95 % interval (left) and the median ΔBIC with its 16–84 % range (right, ΔBIC = 10 marked)."""
    import matplotlib.pyplot as plt

    fig, (share, delta) = plt.subplots(1, 2, figsize=(10.0, 5.6), layout="constrained")
    styles = {"time_heat": ("-", "o", "c(T, t)"), "heat_release": ("--", "s", "Q̇(t)")}
    truths = list(dict.fromkeys(table["truth"]))
    for (truth, experiment), rows in table.groupby(["truth", "experiment"], sort=False):
        line, marker, label = styles[experiment]
        rows = rows.sort_values("decades")
        k = truths.index(truth)
        x = rows["decades"] + 0.04 * (k - (len(truths) - 1) / 2)         # side by side, not on top of each other
        style = {"ls": line, "marker": marker, "color": f"C{k}", "capsize": 2, "label": f"{truth}, {label}"}
        share.errorbar(x, rows["truth_wins"], [rows["truth_wins"] - rows["truth_wins_low"],
                                               rows["truth_wins_high"] - rows["truth_wins"]], **style)
        delta.errorbar(x, rows["delta_bic_50"], [rows["delta_bic_50"] - rows["delta_bic_16"],
                                                 rows["delta_bic_84"] - rows["delta_bic_50"]], **style)
    share.axhline(0.5, color="0.6", lw=0.8)
    share.set_ylim(0.0, 1.02)
    share.set_ylabel("share of replicates the true law wins (ΔBIC > 0)")
    delta.set_yscale("symlog", linthresh=10.0)                      # linear below 10: a ΔBIC < 0 stays visible
    low, top = min(0.0, float(table["delta_bic_16"].min())), max(10.0, float(table["delta_bic_84"].max()))
    ticks = [v for v in (-10, -5, 0, 5, 10, 30, 100, 300, 1000, 3000, 10000, 30000) if 1.5 * low <= v <= 1.5 * top]
    delta.set_yticks(ticks, [str(v) for v in ticks])
    delta.axhline(10.0, color="0.6", lw=0.8)
    delta.set_ylabel("ΔBIC = BIC(other law) − BIC(true law): median, 16–84 %")
    for ax in (share, delta):
        ax.set_xlabel("decades of t measured")
        ax.set_xticks(sorted(set(table["decades"])))
    handles, labels = delta.get_legend_handles_labels()
    fig.legend(handles, labels, fontsize=7, loc="outside lower center", ncols=2)
    fig.suptitle(f"SYNTHETIC data: KKI against the STM, both with their shapes free "
                 f"({table['replicates'].min()}–{table['replicates'].max()} replicates a cell)", fontsize=9)
    return fig


def summarize(plan: Plan, tables: dict[str, pd.DataFrame]):
    """(:func:`summary_table`, :func:`plot` of it) of a study's results."""
    table = summary_table(plan, tables)
    return table, plot(table)


__all__ = ["EXPERIMENTS", "LAWS", "NOISE_FREE_WINDOW", "SEARCHES", "Design", "Law", "Plan", "Truth",
           "noise_free_optima", "parse", "plot", "run_replicate", "summarize", "summary_table", "truth_curve"]
