"""Simulation-based calibration (glassfit.sbc): the rank statistics on known cases, and the KKI c(T) pipeline."""

import math

import numpy as np
import pandas as pd
import pytest

from glassfit import sbc, study


def gaussian_ranks(n, draws, scale, seed=0):
    """Ranks of θ* ~ N(0, 1) among draws of the exact posterior N(x/2, 1/2) of x ~ N(θ*, 1), its width × scale."""
    rng = np.random.default_rng(seed)
    truth = rng.standard_normal(n)
    x = truth + rng.standard_normal(n)
    posterior = x[:, None] / 2 + scale * math.sqrt(0.5) * rng.standard_normal((n, draws))
    return np.sum(posterior < truth[:, None], axis=1)


def test_simultaneous_band_holds_uniform_ranks_with_its_stated_probability():
    z, lower, upper, gamma = sbc.ecdf_band(200, 99, alpha=0.05, seed=1)
    assert z[0] == pytest.approx(0.01) and z[-1] == pytest.approx(0.99) and 0 < gamma < 0.05
    assert np.all(lower < 0) and np.all(upper > 0)
    inside = [sbc.ecdf_statistic(np.random.default_rng(100 + k).integers(0, 100, 200), 99) >= gamma
              for k in range(1000)]                                   # fresh draws, not the band's own
    assert np.mean(inside) == pytest.approx(0.95, abs=3 * math.sqrt(0.95 * 0.05 / 1000))


def test_ranks_tell_a_calibrated_posterior_from_an_overconfident_and_a_wide_one():
    gamma = sbc.ecdf_band(400, 99, alpha=0.01)[3]
    assert sbc.ecdf_statistic(gaussian_ranks(400, 99, 1.0), 99) >= gamma
    for scale in (0.6, 1.6):                      # too narrow: a U-shaped histogram; too wide: a hump
        assert sbc.ecdf_statistic(gaussian_ranks(400, 99, scale), 99) < gamma


def test_summary_table_and_figure_of_perfect_ranks():
    plan = sbc.Plan(cases=(), draws=19, bins=5)
    ranks = np.tile(np.arange(20), 10)
    table = pd.DataFrame({"rank[a]": ranks, "in50[a]": 0.5, "in68[a]": 0.68, "in95[a]": 0.95,
                          "contraction[a]": 0.3, "thin": 5.0, "tau_max": 4.2})
    summary, fig = sbc.summarize(plan, {"case": table})
    row = summary.iloc[0]
    assert row["rank_chi2_p"] == pytest.approx(1.0) and bool(row["ecdf_inside_band"])
    assert [row["coverage_68"], row["contraction"], row["thinned_below_tau"]] == pytest.approx([0.68, 0.3, 0.0])
    assert len(fig.axes) == 2 and fig.axes[0].patches                 # a rank histogram and the ECDF panel


KKI_HEAT = """
[study]
kind = "sbc"
seed = 11
replicates = 40
per_task = 4

[sbc]
sampler = "nested"
nlive = 60
draws = 19
bins = 5

[[sbc.case]]
name = "kki-heat"
free = { eta_c = "uniform(0.6, 1.0)", log10_N = "uniform(27.5, 28.0)" }
  [[sbc.case.data]]
  model = "kki_heat_capacity"
  T = { geomspace = [0.05, 0.5, 8] }
  noise = 0.02
"""


@pytest.mark.slow
def test_kki_heat_capacity_posterior_by_nested_sampling_is_calibrated(tmp_path):
    """40 replicates of the KKI c(T) posterior (η_c, log10 N free; two modes in many replicates, which emcee's
    walkers miss: docs/studies/sbc-kki.toml) by nested sampling: uniform ranks and honest intervals."""
    path = tmp_path / "sbc.toml"
    path.write_text(KKI_HEAT)
    spec = study.load(path)
    assert study.run(spec, workers=2, progress=False).complete
    table, _ = study.summarize(spec)
    print(table.to_string())
    assert list(table["parameter"]) == ["eta_c", "log10_N"]
    gamma = sbc.ecdf_band(40, 19, alpha=0.01)[3]
    ranks = study.read_results(spec.results)["kki-heat"]
    for name in ("eta_c", "log10_N"):
        assert sbc.ecdf_statistic(ranks[f"rank[{name}]"].to_numpy(dtype=int), 19) >= gamma
    assert np.all(table["rank_chi2_p"] > 0.001)
    for level in sbc.LEVELS:
        p = level / 100
        assert np.all(np.abs(table[f"coverage_{level}"] - p) <= 3 * math.sqrt(p * (1 - p) / 40))
    assert np.all(table["contraction"] > 0.3)            # the data, more than the priors, set both
