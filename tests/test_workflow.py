"""The run specification round-trips through run.json, and problems are assembled from the data alone."""


import numpy as np
import pytest

from glassfit.datasets import load
from glassfit.runspec import RunSpec, load_spec, save_spec
from glassfit.workflow import build


def test_run_spec_round_trips_through_run_json(tmp_path):
    spec = RunSpec(("a.csv", "b.csv"), "stm", method="leastsq",
                   read=[{"observable": "heat_capacity", "columns": {"T": "T", "y": "c"}, "sigma_rel": 0.02},
                         {"observable": "conductivity", "columns": {"T": "T", "y": "k", "sigma": "dk"}}],
                   values={"P0": 2.0}, free=("c3",), fixed=("v_l",), log=("C", "v_t"), ties={"v_t": "0.5*v_l"},
                   noise="scaled", walkers=16, steps=40, until_converged=False, seed=3, moves="de",
                   search="differential_evolution", starts=9, t_exp=2.5)
    save_spec(spec, tmp_path, "glassfit fit a.csv b.csv", tmp_path / "chain.h5")
    again, command = load_spec(tmp_path)
    assert again == spec and command == "glassfit fit a.csv b.csv"
    assert all(isinstance(getattr(again, f), tuple) for f in ("sources", "free", "fixed", "log"))


def test_a_file_named_like_a_catalog_entry_keeps_its_own_options(tmp_path):
    # the synthetic catalog set is generated with output J/(g K); a user's file of the same name in J/(mol K)
    # must get a J/(mol K) model, not the catalog entry's options
    source = load("synthetic-kki-heat-capacity")
    per_mole = source.y * 0.06008 * 1000.0                       # J/(g K) → J/(mol K) for M = 60.08 g/mol
    path = tmp_path / "synthetic-kki-heat-capacity.csv"
    rows = "\n".join(f"{t:.17g},{c:.17g},{0.02 * c:.17g}" for t, c in zip(source.x["T"], per_mole, strict=True))
    path.write_text("T,c,dc\n" + rows + "\n")
    read = {"observable": "heat_capacity", "columns": {"T": "T", "y": "c", "sigma": "dc"},
            "units": {"y": "J/(mol K)", "sigma": "J/(mol K)"}}
    problem = build(RunSpec((str(path),), "kki", method="leastsq", read=read))
    assert problem.models[0].output == "J/(mol K)"
    catalogued = build(RunSpec(("synthetic-kki-heat-capacity",), "kki", method="leastsq"))
    assert catalogued.models[0].output == "J/(g K)"
    np.testing.assert_allclose(problem.datasets[0].y, per_mole, rtol=1e-15)


def test_competing_optima_are_flagged():
    """y = (a² − 1)² with data 0: modes at a = ±1, which the normal prior N(0.2, 1) ranks (ΔΦ = 0.8)."""
    import lmfit

    from glassfit import optimize, summaries
    from glassfit.dataset import Dataset
    from glassfit.objective import Objective
    from glassfit.priors import Normal

    model = lmfit.Model(lambda x, a: (a * a - 1.0) ** 2 + 0.0 * x)
    model.set_param_hint("a", value=0.5, min=-3.0, max=3.0)
    objective = Objective(model, Dataset({"x": np.linspace(0, 1, 10)}, np.zeros(10), 0.01),
                          priors={"a": Normal(0.2, 1.0)})
    found = optimize.map_fit(objective, seed=0)
    search = summaries.search_doc(found, objective)
    assert search["n_optima"] == 2 and found.theta[0] == pytest.approx(1.0, abs=0.01)       # the prior pulls
    (flag,) = summaries.competing_optima(search)
    assert "1 other optimum within ΔΦ = 0.795 of the best" in flag and "nested" in flag      # 1.2² − 0.8²
    single = summaries.search_doc(found, objective, limit=1)
    assert summaries.competing_optima(single) == [] and summaries.competing_optima(None) == []
