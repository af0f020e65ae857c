"""Synthetic experiments of study files (glassfit.designs): grids, paired variables, errors."""

import numpy as np
import pytest

from glassfit import designs


def test_grid_is_every_combination_and_paired_variables_run_together():
    part = designs.parse_part({"model": "kki_heat_release", "t": {"geomspace": [1.0, 100.0, 3]},
                               "T": [0.05, 0.1], "T1": [0.2, 0.3], "paired": ["T", "T1"], "noise": 0.01}, "here")
    x = designs.points(part)
    assert list(x) == ["t", "T", "T1"] and x["t"].size == 6
    np.testing.assert_allclose(x["t"], [1, 1, 10, 10, 100, 100])
    np.testing.assert_allclose(x["T"], [0.05, 0.1] * 3)
    np.testing.assert_allclose(x["T1"] / x["T"], [4, 3] * 3)
    full = designs.points(designs.parse_part({"model": "kki_time_heat", "T": [0.1, 0.2], "t": [1, 2, 3],
                                              "noise": 0.01}, "here"))
    assert full["T"].tolist() == [0.1] * 3 + [0.2] * 3 and full["t"].tolist() == [1, 2, 3] * 2


def test_parameters_vary_tie_and_set():
    part = designs.parse_part({"model": "kki_conductivity", "T": [0.1], "noise": 0.02}, "here")
    params = designs.parameters(designs.model(part), {"eta_c", "chi_1"}, (("chi_2", "chi_1"),), {"chi_1": 0.7})
    assert [n for n, p in params.items() if p.vary and not p.expr] == ["eta_c", "chi_1"]
    assert params["chi_2"].expr == "chi_1" and params["chi_1"].value == 0.7
    assert "chi_2" in designs.model_parameters(part) and "N" not in designs.model_parameters(part)


@pytest.mark.parametrize(("raw", "message"), [
    ({"model": "no_such", "T": [1], "noise": 0.1}, "unknown model 'no_such'"),
    ({"model": "kki_heat_capacity", "noise": 0.1}, r"takes the grid of \['T'\]"),
    ({"model": "kki_heat_capacity", "T": [1], "noise": 0}, "noise must be a relative σ > 0"),
    ({"model": "kki_heat_capacity", "T": {"logspace": [0, 1, 3]}, "noise": 0.1}, "give a list of values"),
    ({"model": "kki_heat_capacity", "T": {"geomspace": [0.1, 1, 2.5]}, "noise": 0.1}, "integer n ≥ 1"),
    ({"model": "kki_heat_capacity", "T": [1, float("nan")], "noise": 0.1}, "finite numbers"),
    ({"model": "kki_heat_release", "t": [1], "T": [0.1], "T1": [0.2, 0.3], "paired": ["T", "T1"], "noise": 0.1},
     "as many values"),
])
def test_malformed_parts_are_refused_in_one_line(raw, message):
    with pytest.raises(ValueError, match=message):
        designs.parse_part(raw, "[sbc] case 'x'")


def test_children_are_the_fresh_spawn_and_do_not_mutate_the_seed():
    seed = np.random.SeedSequence(7, spawn_key=(2, 5))
    first = [s.generate_state(4) for s in designs.children(seed, 3)]
    again = [s.generate_state(4) for s in designs.children(seed, 3)]
    spawned = [s.generate_state(4) for s in np.random.SeedSequence(7, spawn_key=(2, 5)).spawn(3)]
    assert all(np.array_equal(a, b) and np.array_equal(a, c) for a, b, c in zip(first, again, spawned, strict=True))
    assert seed.n_children_spawned == 0
