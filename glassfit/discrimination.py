"""Can c(T, t) data tell the KKI law from Black's logarithm?  A seeded study on SYNTHETIC data.

For each time window t ∈ [t_start, t_start·10^decades] and relative noise level, synthetic c(T, t) is drawn
from each law in turn, and both laws are fitted to it by least squares with two free parameters each:

* KKI (:class:`glassfit.models.KKITimeHeatModel`): log10 N and χ (χ_1 = χ_2), every other parameter at the
  truth (model defaults: the reference glass a-SiO2, w = 22.6 K, η_c = 0.8, ξ_c = 1.2, N = 6e27 m⁻³);
* Black (:class:`glassfit.models.BlackTimeHeatModel`): P̄ and γ_l (γ_t/γ_l fixed at 0.65; γ_l uncapped, since
  the straight line in ln t closest to a KKI curve can need γ_l above the table's 10 eV).

The Black truth of a window is the Black curve closest to the noise-free KKI data on that window (least
squares), so that the two truths are as hard to tell apart as the physics allows.  Both models use the
exponential window.  With equal numbers of parameters, ΔBIC = Δχ²; the law with the lower BIC wins.
The result says how many decades of t, relative to the crossover τ̃ = (w/kT)² τ_min (physics.md §7.2),
an experiment needs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from glassfit.models import BlackTimeHeatModel, KKITimeHeatModel, kki_chi, kki_material
from glassfit.observables.timeheat import kki_time_scales

#: Temperature of the synthetic experiment [K]: one, so that only the time dependence discriminates
STUDY_TEMPERATURE = 0.1


def _models():
    kki, black = KKITimeHeatModel(), BlackTimeHeatModel(window="exponential")
    kki_params, black_params = kki.make_params(), black.make_params()
    for name in ("eta_c", "xi_c"):
        kki_params[name].set(vary=False)
    kki_params["chi_2"].set(expr="chi_1")
    black_params["gamma_t"].set(expr="0.65*gamma_l")
    black_params["gamma_l"].set(max=1e4)        # Black = any straight line in ln t: no physical cap on K_τ here
    return kki, kki_params, black, black_params


def crossover_time(T: float) -> float:
    """τ̃(T) [s] of the study's KKI truth (physics.md §7.2)."""
    _, params, _, _ = _models()
    values = params.valuesdict()
    scales, _ = kki_material(values)
    times = kki_time_scales(T, scales, kki_chi(values), values["rho"], values["v_l"], values["v_t"])
    return float(times.crossover[0])


def _grid(t_start, decades, points_per_decade):
    t = np.geomspace(t_start, t_start * 10.0**decades, round(decades * points_per_decade) + 1)
    return np.full(t.size, STUDY_TEMPERATURE), t


def time_law_discrimination(decades=(1, 2, 3, 4, 6), noise=(0.01, 0.03), replicates: int = 20,
                            t_start: float = 1e-6, points_per_decade: float = 4, seed: int = 0) -> pd.DataFrame:
    """Fraction of replicates in which the true law has the lower BIC, per window length, noise and truth.

    ``t_start`` [s]; windows end at t_start·10^decades; ``noise`` is the relative σ of each point.  Returns one
    row per (decades, noise, truth) with ``t_max_over_crossover`` = t_max/τ̃ (τ̃ = 57 ms at 0.1 K), ``wins``,
    ``replicates``, ``fraction`` and the median ΔBIC of the wrong law against the true one (positive: truth preferred).
    """
    if replicates < 1:
        raise ValueError(f"replicates must be ≥ 1, got {replicates!r}")
    if not (np.all(np.asarray(decades) > 0) and np.all(np.asarray(noise) > 0) and t_start > 0):
        raise ValueError("decades, noise and t_start must be > 0")
    rng = np.random.default_rng(seed)
    kki, kki_truth, black, black_start = _models()
    tau_cross = crossover_time(STUDY_TEMPERATURE)
    rows = []
    for d in decades:
        T, t = _grid(t_start, d, points_per_decade)
        exact = {"KKI": kki.eval(kki_truth, T=T, t=t)}
        closest = black.fit(exact["KKI"], black_start, T=T, t=t, weights=1.0 / exact["KKI"])
        exact["Black"] = closest.best_fit
        for sigma_rel in noise:
            for truth in ("KKI", "Black"):
                delta = []
                for _ in range(replicates):
                    sigma = sigma_rel * exact[truth]
                    y = exact[truth] + sigma * rng.standard_normal(T.size)
                    chi2 = {"KKI": kki.fit(y, kki_truth, T=T, t=t, weights=1.0 / sigma).chisqr,
                            "Black": black.fit(y, closest.params, T=T, t=t, weights=1.0 / sigma).chisqr}
                    wrong = "Black" if truth == "KKI" else "KKI"
                    delta.append(chi2[wrong] - chi2[truth])
                delta = np.asarray(delta)
                rows.append({"decades": d, "t_max": t.max(), "t_max_over_crossover": t.max() / tau_cross,
                             "noise": sigma_rel, "truth": truth, "wins": int(np.sum(delta > 0)),
                             "replicates": replicates, "fraction": float(np.mean(delta > 0)),
                             "median_delta_bic": float(np.median(delta))})
    return pd.DataFrame(rows)


__all__ = ["STUDY_TEMPERATURE", "crossover_time", "time_law_discrimination"]
