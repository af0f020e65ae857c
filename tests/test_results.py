import json
from importlib.metadata import version

import emcee
import h5py
import numpy as np
import pytest
from inference_toys import STM_TRUTH, line_objective, stm_objective

from glassfit import compare, results, sampling
from glassfit.dataset import Dataset
from glassfit.models import KKIConductivityModel, KKIHeatCapacityModel
from glassfit.objective import JointObjective, Objective
from glassfit.sampling import fingerprint


def iid_posterior(objective, chain, seed=0):
    """A Posterior built from a given (steps, walkers, ndim) chain."""
    steps, walkers, _ = chain.shape
    log_prob = np.array([[objective.logpost(chain[s, w]) for w in range(walkers)] for s in range(steps)])
    return results.Posterior(list(objective.names), chain, log_prob, np.full(walkers, 0.5), 0, seed,
                             fingerprint(objective))


@pytest.fixture(scope="module")
def stm_run(tmp_path_factory):
    obj = stm_objective(seed=0)
    info = sampling.run(obj, tmp_path_factory.mktemp("stm") / "chain.h5", max_steps=20000, seed=1)
    return obj, info, results.Posterior.load(info.path)


def test_stm_parameters_recovered_within_95_percent(stm_run):
    obj, info, post = stm_run
    assert info.converged
    samples = post.samples()
    for i, name in enumerate(obj.names):
        lo, hi = np.percentile(samples[:, i], [2.5, 97.5])
        assert lo < STM_TRUTH[name] < hi


def test_summary_columns(stm_run):
    obj, info, post = stm_run
    summary = results.summarize(post, obj)
    row = summary["P0"]
    samples = post.samples()[:, 0]
    assert row.median == pytest.approx(np.median(samples)) and row.q16 < row.median < row.q84
    assert row.unit == "1e45 J^-1 m^-3"
    assert row.map == post.map()[0] and row.tau == pytest.approx(info.tau[0], rel=0.05)
    assert row.n_over_tau >= 50 and row.ess == pytest.approx(16 * (post.nsteps - summary.burn_in) / row.tau)
    assert abs(row.rhat - 1) < 0.05 and 0.3 < summary.acceptance < 0.9
    assert "P0" in summary.table() and "acceptance" in summary.table()
    with pytest.raises(KeyError, match="no parameter 'Q'"):
        summary["Q"]


def test_load_reads_emcees_backend_and_the_glassfit_record(stm_run, tmp_path):
    obj, info, post = stm_run
    backend = emcee.backends.HDFBackend(str(info.path), read_only=True)
    assert np.array_equal(post.chain, backend.get_chain()) and np.array_equal(post.log_prob, backend.get_log_prob())
    assert post.nsteps == info.nsteps == backend.iteration
    np.testing.assert_allclose(post.acceptance.mean(), info.acceptance)
    assert (post.names, post.seed, post.fingerprint, post.converged) == (obj.names, 1, fingerprint(obj), True)
    assert post.n_nonfinite == info.n_nonfinite == 0
    frozen = tmp_path / "frozen.h5"                             # a read-only copy loads (emcee's read_only mode)
    frozen.write_bytes(info.path.read_bytes())
    frozen.chmod(0o444)
    assert np.array_equal(results.Posterior.load(frozen).chain, post.chain)


def test_split_rhat_flags_walker_halves_that_disagree():
    rng = np.random.default_rng(0)
    chain = rng.normal(size=(400, 8, 1))
    assert results.split_rhat(chain)[0] == pytest.approx(1.0, abs=0.02)
    chain[:, 4:] += 3.0                                              # second half of the walkers stuck elsewhere
    assert results.split_rhat(chain)[0] > 1.2
    assert np.isnan(results.split_rhat(chain[:2])[0])


def test_iid_summary_matches_the_distribution():
    obj = line_objective()
    chain = np.random.default_rng(3).normal([1.0, 2.0], [0.1, 0.2], size=(500, 8, 2))
    summary = results.summarize(iid_posterior(obj, chain), obj, discard=0)
    assert summary["a"].median == pytest.approx(1.0, abs=0.01)
    assert summary["b"].q84 - summary["b"].q16 == pytest.approx(0.4, rel=0.05)
    assert summary["a"].tau == pytest.approx(1.0, abs=0.3)


def test_json_summary_round_trip(stm_run, tmp_path):
    obj, info, post = stm_run
    summary = results.summarize(post, obj, derived_values={"P0x2": 2 * post.samples()[:, 0]})
    path = results.save_summary(summary, obj, tmp_path / "s.json", post)
    doc = results.load_summary(path)
    assert [p["name"] for p in doc["parameters"]] == ["P0", "c3", "P0x2"]
    assert doc["parameters"][0]["unit"] == "1e45 J^-1 m^-3"
    assert doc["priors"]["P0"] == {"kind": "LogUniform", "lo": 1e-4, "hi": 1e4}
    assert doc["datasets"][0]["sha256"] == obj.data.sha256 and doc["datasets"][0]["nature"] == "synthetic"
    assert doc["seed"] == 1 and doc["chain"]["file"] == str(info.path)
    assert {"python", "glassfit", "numpy", "emcee", "lmfit"} <= set(doc["versions"]) and "arviz" not in doc["versions"]
    assert doc["versions"]["arviz-stats"] == version("arviz-stats") and doc["versions"]["arviz-base"] is not None
    (tmp_path / "bad.json").write_text(json.dumps({"parameters": []}))
    with pytest.raises(ValueError, match="not a glassfit summary"):
        results.load_summary(tmp_path / "bad.json")
    with pytest.raises(ValueError, match="cannot read a summary"):
        results.load_summary(tmp_path / "missing.json")


def test_failed_diagnostics_never_block_summaries_or_plots(tmp_path):
    from glassfit import plotting

    obj = line_objective()
    post = iid_posterior(obj, np.tile([1.0, 2.0], (6, 4, 1)))          # a stuck chain: τ and R̂ undefined
    assert post.tau is None and post.burn_in() == 3
    summary = results.summarize(post, obj)
    assert np.isnan(summary["a"].tau) and np.isnan(summary["a"].rhat) and summary["a"].median == 1.0
    doc = results.load_summary(results.save_summary(summary, obj, tmp_path / "s.json"))
    assert doc["parameters"][0]["tau"] is None
    plotting.trace_plot(post, obj, path=tmp_path / "trace.png")
    assert (tmp_path / "trace.png").exists()


def test_inference_data_has_the_log_likelihood(stm_run):
    obj, _, post = stm_run
    idata = results.to_inference_data(post, obj, max_draws=320)
    ll = idata.log_likelihood["stm c(T)"]
    assert ll.shape == (16, 20, 30) and set(idata.posterior.data_vars) == {"P0", "c3"}
    theta = [float(idata.posterior["P0"][3, 5]), float(idata.posterior["c3"][3, 5])]
    np.testing.assert_allclose(ll.values[3, 5], obj.pointwise_logl(theta))
    assert np.isfinite(compare.loo(ll.values).elpd)


def test_datatree_groups_dims_and_values():
    import arviz_stats
    import xarray as xr

    obj = JointObjective([line_objective(0, name="near"), line_objective(1, n=7, name="far")])
    # the exact posterior of (a, b) under flat priors: Gaussian around the least-squares line of both datasets
    X = np.column_stack([np.ones(27), np.r_[obj.datasets[0].x["x"], obj.datasets[1].x["x"]]])
    mean = np.linalg.lstsq(X, np.r_[obj.datasets[0].y, obj.datasets[1].y], rcond=None)[0]
    chain = np.random.default_rng(0).multivariate_normal(mean, 0.01 * np.linalg.inv(X.T @ X), size=(50, 40))
    post = iid_posterior(obj, chain)
    tree = results.to_inference_data(post, obj, max_draws=1200, discard=0)     # 30 draws of 40 walkers: no warning
    assert isinstance(tree, xr.DataTree) and set(tree.children) == {"posterior", "log_likelihood", "observed_data"}
    steps = np.linspace(0, 49, 30).round().astype(int)                         # the evenly thinned steps
    assert dict(tree.posterior.sizes) == {"chain": 40, "draw": 30}
    np.testing.assert_array_equal(tree.posterior["a"].values, chain[steps, :, 0].T)
    np.testing.assert_array_equal(tree.posterior["b"].values, chain[steps, :, 1].T)
    assert tree.log_likelihood["near"].dims == ("chain", "draw", "near_dim_0")
    assert tree.log_likelihood["far"].shape == (40, 30, 7) and tree.observed_data["far"].dims == ("far_dim_0",)
    for d, part in zip(obj.datasets, obj.parts, strict=True):
        np.testing.assert_array_equal(tree.observed_data[d.id].values, d.y)
        np.testing.assert_allclose(tree.log_likelihood[d.id].values[4, 2], part.pointwise_logl(chain[steps[2], 4]))
    # the tree feeds arviz-stats directly: its LOO of one dataset is glassfit's on the same values
    direct = arviz_stats.loo(tree, var_name="far", reff=1.0)
    assert direct.elpd == pytest.approx(compare.loo(tree.log_likelihood["far"].values).elpd)


def test_derived_parameters_through_the_chain(tmp_path):
    model = KKIHeatCapacityModel()
    T = np.geomspace(0.05, 0.5, 6)
    y = model.eval(model.make_params(), T=T)
    obj = Objective(model, Dataset({"T": T}, y, 0.02 * y, id="c"))
    chain = np.random.default_rng(0).normal([0.5, 0.5, 27.0], [0.01, 0.01, 0.05], size=(20, 8, 3))
    post = iid_posterior(obj, chain)
    der = results.derived(post, obj, {"amplitude": lambda v: v["N"] * v["eta_c"]}, discard=0, max_draws=80)
    flat = post.samples(0, 80)
    np.testing.assert_allclose(der["N"], 10 ** flat[:, 2])
    np.testing.assert_allclose(der["amplitude"], 10 ** flat[:, 2] * flat[:, 0])
    assert results.derived_unit(obj, "N") == "m^-3"
    summary = results.summarize(post, obj, discard=0, derived_values=der)
    assert summary["N"].unit == "m^-3" and np.isnan(summary["N"].tau)


def test_bad_inputs(stm_run, tmp_path):
    post = stm_run[2]
    with pytest.raises(ValueError, match="not sampled from this objective"):
        results.summarize(post, stm_objective(seed=5))
    with pytest.raises(ValueError, match="not sampled from this objective"):
        results.to_inference_data(post, line_objective())
    (tmp_path / "junk.h5").write_bytes(b"junk")
    with pytest.raises(ValueError, match="not a glassfit chain file"):
        results.Posterior.load(tmp_path / "junk.h5")
    with h5py.File(tmp_path / "foreign.h5", "w") as f:
        f["x"] = [1, 2]
    with pytest.raises(ValueError, match="not a glassfit chain file"):
        results.Posterior.load(tmp_path / "foreign.h5")
    with h5py.File(tmp_path / "record-only.h5", "w") as f, h5py.File(stm_run[1].path, "r") as g:
        g.copy("glassfit", f)                                       # glassfit's record without emcee's chain
    with pytest.raises(ValueError, match="not a glassfit chain file"):
        results.Posterior.load(tmp_path / "record-only.h5")
    with pytest.raises(ValueError, match="discard must be in"):
        post.samples(discard=post.nsteps)
    with pytest.raises(ValueError, match="max_draws must be ≥ the number of walkers"):
        post.samples(max_draws=3)


def kki_objective(model, T, seed, name, rel=0.02):
    """Synthetic KKI data (η_c = 0.8, ξ_c = 1.2, log10 N = 26.5) with η_c and log10 N free."""
    params = model.make_params()
    for k, v in {"eta_c": 0.8, "xi_c": 1.2, "log10_N": 26.5}.items():
        params[k].set(value=v)
    for k in params:
        if k != "N":
            params[k].set(vary=k in ("eta_c", "log10_N"))
    truth = model.eval(params, T=T)
    y = truth * (1 + rel * np.random.default_rng(seed).normal(size=T.size))
    return Objective(model, Dataset({"T": T}, y, rel * truth, id=name), params=params)


def intervals(objective, path, steps):
    info = sampling.run(objective, path, max_steps=steps, seed=0, converge=False)
    samples = results.Posterior.load(info.path).samples()
    return np.percentile(samples, [2.5, 16, 84, 97.5], axis=0)


@pytest.mark.slow
def test_kki_heat_capacity_recovery(tmp_path):
    obj = kki_objective(KKIHeatCapacityModel(), np.geomspace(0.05, 0.5, 12), 1, "c")
    q = intervals(obj, tmp_path / "c.h5", 600)
    for i, truth in enumerate((0.8, 26.5)):
        assert q[0, i] < truth < q[3, i]


@pytest.mark.slow
def test_joint_heat_and_conductivity_narrow_the_shared_parameters(tmp_path):
    T = np.geomspace(0.05, 0.5, 10)
    c = kki_objective(KKIHeatCapacityModel(), T, 1, "c")
    kappa = kki_objective(KKIConductivityModel(), T, 2, "kappa")
    width = {}
    for name, obj in (("c", c), ("kappa", kappa), ("joint", JointObjective([c, kappa]))):
        q = intervals(obj, tmp_path / f"{name}.h5", 500)
        width[name] = q[2] - q[1]
        for i, truth in enumerate((0.8, 26.5)):
            assert q[0, i] < truth < q[3, i]
    print("68 % widths (eta_c, log10_N):", {k: np.round(v, 4).tolist() for k, v in width.items()})
    assert np.all(width["joint"] < width["c"]) and np.all(width["joint"] < width["kappa"])


@pytest.mark.slow
def test_68_percent_intervals_cover_the_truth(tmp_path):
    """200 replicates of a straight line (a, b): both 68 % intervals cover the truth 68 ± 7 % of the time."""
    hits = []
    for seed in range(200):
        obj = line_objective(seed=seed, n=10)
        info = sampling.run(obj, tmp_path / f"{seed}.h5", max_steps=400, nwalkers=8, seed=seed, converge=False)
        q16, q84 = np.percentile(results.Posterior.load(info.path).samples(), [16, 84], axis=0)
        hits.append((q16 < [1.0, 2.0]) & ([1.0, 2.0] < q84))
    coverage = np.mean(hits, axis=0)
    print("68 % interval coverage (a, b):", coverage)
    assert np.all(np.abs(coverage - 0.68) <= 0.07)
