"""The KKI-against-STM discrimination study kind (glassfit.time_laws) on SYNTHETIC data."""

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from glassfit import study, time_laws

SPEC = """
[study]
kind = "discrimination"
seed = 3
replicates = {replicates}

[discrimination]
starts = 2
screen = 12
truth_starts = 4
truth_screen = 24

[discrimination.law.kki]
models = {{ time_heat = "kki_time_heat", heat_release = "kki_heat_release" }}
free = {{ log10_N = "uniform(26.5, 29)", chi_1 = "uniform(0.1, 2)" }}
tie = {{ chi_2 = "chi_1" }}

[discrimination.law.stm]
models = {{ time_heat = "black_time_heat", heat_release = "black_heat_release" }}
free = {{ P0 = "loguniform(0.01, 100)", D0_min = "loguniform(1e-14, 0.1)" }}
options = {{ time_heat = {{ window = "exponential", cutoff = true }}, heat_release = {{ cutoff = true }} }}

[[discrimination.truth]]
name = "kki"
law = "kki"
values = {{ eta_c = 1.2 }}

[[discrimination.truth]]
name = "stm-closest"
law = "stm"
closest_to = "kki"

[[discrimination.design]]
name = "c"
experiment = "time_heat"
T = [0.1]
t = {{ geomspace = [{t_lo}, {t_hi}, 7] }}
noise = {noise}

[[discrimination.design]]
name = "Q"
experiment = "heat_release"
t = {{ geomspace = [{t_lo}, {t_hi}, 7] }}
T = [0.1]
T1 = [0.2]
paired = ["T", "T1"]
noise = {noise}
"""


def spec(tmp_path, replicates=1, t_lo=1e-6, t_hi=1e-4, noise=0.01):
    path = Path(tmp_path) / "laws.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(SPEC.format(replicates=replicates, t_lo=t_lo, t_hi=t_hi, noise=noise))
    return study.load(path)


def test_cells_truths_and_a_replicate(tmp_path):
    s = spec(tmp_path)
    assert s.plan.cells == ["kki | c", "kki | Q", "stm-closest | c", "stm-closest | Q"]
    # the closest STM curve to the KKI one is a least-squares fit: within 1 % of c(T, t) on this short window, but
    # up to 14 % off Q̇, whose t Q̇ falls with ln t where the STM's stays flat (and then drops at its cutoff)
    for design, worst in ((0, 0.01), (1, 0.14)):
        kki, closest = time_laws.truth_curve(s.plan, design), time_laws.truth_curve(s.plan, 2 + design)
        off = np.max(np.abs(closest / kki - 1))
        assert worst / 3 < off < worst
    row = time_laws.run_replicate(s.plan, 0, study.replicate_seed(3, 0, 0))
    assert set(row) >= {"chi2[kki]", "chi2[stm]", "bic[kki]", "bic[stm]", "delta_bic", "kki.log10_N", "stm.D0_min"}
    assert row["delta_bic"] == pytest.approx(row["bic[stm]"] - row["bic[kki]"], rel=1e-12)
    assert row["bic[kki]"] == pytest.approx(row["chi2[kki]"] + 2 * np.log(7), rel=1e-12)
    assert row == time_laws.run_replicate(s.plan, 0, study.replicate_seed(3, 0, 0))           # seeded


def test_the_study_search_finds_the_full_searchs_optimum(tmp_path):
    """A replicate's search (its own small multistart and the noise-free optima) reaches at least the χ² of a
    larger multistart on the same data (here a better one, for the KKI law on Q̇: 10.1 against 26.3)."""
    s = spec(tmp_path)
    optima = time_laws.noise_free_optima(s.plan, 1, "kki")
    assert optima and time_laws.truth_curve(s.plan, 1).shape == (7,)
    for cell in (1, 3):
        seed = study.replicate_seed(3, cell, 0)
        quick = time_laws.run_replicate(s.plan, cell, seed)
        full = time_laws.run_replicate(dataclasses.replace(s.plan, search="full"), cell, seed)
        for law in time_laws.LAWS:
            assert quick[f"chi2[{law}]"] <= full[f"chi2[{law}]"] + 1e-3


@pytest.mark.parametrize(("edit", "message"), [
    (("[discrimination.law.stm]", "[discrimination.law.black]"), r"needs exactly \['kki', 'stm'\]"),
    (('closest_to = "kki"', 'closest_to = "nothing"'), "closest_to names no truth"),
    (('experiment = "time_heat"', 'experiment = "ultrasound"'), "experiment = one of"),
    (("noise = 0.01", "noise = -1"), "noise must be a relative σ > 0"),
    (("starts = 2", "starts = 0"), "starts must be an integer ≥ 1"),
    (("screen = 12", 'screen = 12\nsearch = "fast"'), r"search must be one of \['study', 'full'\]"),
])
def test_malformed_discrimination_specs(tmp_path, edit, message):
    path = Path(tmp_path) / "bad.toml"
    path.write_text(SPEC.format(replicates=1, t_lo=1e-6, t_hi=1e-4, noise=0.01).replace(*edit, 1))
    with pytest.raises(ValueError, match=message):
        study.load(path)


@pytest.mark.slow
def test_long_windows_decide_and_short_noisy_ones_do_not(tmp_path):
    """Ten seeded replicates per cell: six decades at 1 % noise decide for the true law every time; a window of
    one decade at 10 % noise, 1 µs to 10 µs, leaves ΔBIC small."""
    long = spec(Path(tmp_path) / "long", replicates=10, t_lo=1e-6, t_hi=1.0)
    study.run(long, workers=2, progress=False)
    table, _ = study.summarize(long)
    print(table.to_string())
    assert np.all(table["truth_wins"] == 1.0) and np.all(table["delta_bic_16"] > 10)
    short = spec(Path(tmp_path) / "short", replicates=10, t_lo=1e-6, t_hi=1e-5, noise=0.1)
    study.run(short, workers=2, progress=False)
    table, _ = study.summarize(short)
    print(table.to_string())
    assert np.all(np.abs(table["delta_bic_50"]) < 6)


def test_summary_gives_the_exact_binomial_interval_of_the_share(tmp_path):
    s = spec(tmp_path)
    tables = {s.plan.cells[0]: pd.DataFrame({"delta_bic": np.arange(1.0, 11.0)}),
              s.plan.cells[1]: pd.DataFrame({"delta_bic": [3.0, -1.0, 2.0, 5.0]})}
    table = time_laws.summary_table(s.plan, tables)
    assert list(table["replicates"]) == [10, 4] and list(table["truth_wins"]) == [1.0, 0.75]
    # 10 of 10: the Clopper–Pearson lower bound solves p¹⁰ = 0.025
    assert table["truth_wins_low"][0] == pytest.approx(0.025 ** 0.1, rel=1e-9) and table["truth_wins_high"][0] == 1.0
    assert table["delta_bic_50"][0] == pytest.approx(5.5)
