import numpy as np
import pytest

from glassfit.discrimination import crossover_time, time_law_discrimination


def test_true_law_wins_on_clearly_separated_cases():
    # six decades of t reaching 70 τ̃ at 1 % noise: the true law wins every seeded replicate, by far
    table = time_law_discrimination(decades=(6,), noise=(0.01,), replicates=4, seed=1)
    assert set(table["truth"]) == {"KKI", "Black"}
    assert np.all(table["fraction"] == 1.0)
    assert np.all(table["median_delta_bic"] > 10)
    assert table["t_max_over_crossover"].iloc[0] == pytest.approx(1.0 / crossover_time(0.1), rel=1e-12)


def test_one_decade_far_below_the_crossover_cannot_decide():
    # t ≤ 1e-3 τ̃: both laws are straight lines in ln t, so neither is decisively preferred
    table = time_law_discrimination(decades=(1,), noise=(0.03,), replicates=6, seed=2)
    assert np.all(np.abs(table["median_delta_bic"]) < 2)


def test_is_seeded():
    kwargs = {"decades": (2,), "noise": (0.02,), "replicates": 2, "seed": 5}
    assert time_law_discrimination(**kwargs).equals(time_law_discrimination(**kwargs))


def test_bad_arguments():
    with pytest.raises(ValueError, match="replicates"):
        time_law_discrimination(replicates=0)
    with pytest.raises(ValueError, match="noise"):
        time_law_discrimination(noise=(-0.01,))
