"""The run specification round-trips through run.json, and problems are assembled from the data alone."""


import numpy as np

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
