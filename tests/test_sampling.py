import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import emcee
import h5py
import lmfit
import numpy as np
import pytest
from inference_toys import STM_TRUTH, line_objective, run_until_killed, stm_objective

from glassfit import optimize, results, sampling
from glassfit.dataset import Dataset
from glassfit.objective import Objective

TESTS = Path(__file__).parent


def chain(path):
    return emcee.backends.HDFBackend(str(path), read_only=True).get_chain()


def test_least_squares_start_and_noise_profile():
    obj = stm_objective(seed=0, noise="scaled")
    theta, cov = optimize.least_squares(obj)
    sd = np.sqrt(np.diag(cov))
    for i, name in enumerate(["P0", "c3"]):
        assert abs(theta[i] - STM_TRUTH[name]) < 4 * sd[i]
    assert 0.6 < theta[2] < 1.5                                      # the data's σ is right: scale ≈ 1
    walkers = sampling.initial_walkers(obj, 20, theta, cov, rng=1)
    assert walkers.shape == (20, 3) and all(np.isfinite(obj.logpost(w)) for w in walkers)
    assert np.array_equal(walkers, sampling.initial_walkers(obj, 20, theta, cov, rng=1))


def test_starts_outside_the_prior_are_redrawn():
    obj = line_objective()
    theta = np.array([9.99, 2.0])                                    # a's prior ends at 10
    walkers = sampling.initial_walkers(obj, 40, theta, np.diag([0.01**2, 0.01**2]), rng=0)
    assert np.all(walkers[:, 0] <= 10.0)
    with pytest.raises(ValueError, match="could only place 0 of 8 walkers"):
        sampling.initial_walkers(obj, 8, np.array([30.0, 2.0]), np.diag([1e-4, 1e-4]), rng=0, max_tries=3)


def test_seeded_runs_are_reproducible(tmp_path):
    obj = stm_objective()
    runs = [sampling.run(obj, tmp_path / f"{k}.h5", max_steps=60, seed=seed, converge=False)
            for k, seed in enumerate((5, 5, 6))]
    assert all(r.nsteps == 60 and r.nwalkers == 16 for r in runs)
    a, b, c = (chain(r.path) for r in runs)
    assert np.array_equal(a, b) and not np.array_equal(a, c)


@pytest.mark.parametrize("moves", [None, [(emcee.moves.DEMove(), 0.8), (emcee.moves.DESnookerMove(), 0.2)]],
                         ids=["stretch", "differential-evolution"])
def test_resume_continues_to_the_total_bit_for_bit(tmp_path, moves):
    obj = stm_objective()
    sampling.run(obj, tmp_path / "long.h5", max_steps=90, seed=2, converge=False, check_every=20, moves=moves)
    short = sampling.run(obj, tmp_path / "part.h5", max_steps=33, seed=2, converge=False, check_every=20, moves=moves)
    assert short.nsteps == 33
    again = sampling.run(obj, tmp_path / "part.h5", max_steps=90, resume=True, converge=False, check_every=20,
                         moves=moves)
    assert again.nsteps == 90
    assert np.array_equal(chain(tmp_path / "long.h5"), chain(tmp_path / "part.h5"))


KILLED_RUN = """
import os, signal, sys
from inference_toys import stm_objective
from glassfit import optimize, sampling

obj = stm_objective()
calls = 0
logpost_batch = obj.logpost_batch

def dying(thetas):                  # SIGKILL in the middle of a step (two half-ensemble batches each), after 57
    global calls
    calls += 1
    if calls == 2 * 57 + 2:
        os.kill(os.getpid(), signal.SIGKILL)
    return logpost_batch(thetas)

obj.logpost_batch = dying
sampling.run(obj, sys.argv[1], max_steps=200, seed=9, converge=False, check_every=10)
"""


def test_killed_run_resumes_to_the_uninterrupted_chain(tmp_path):
    path = tmp_path / "killed.h5"
    run_until_killed(tmp_path, KILLED_RUN, path)
    killed = emcee.backends.HDFBackend(str(path), read_only=True).iteration
    assert killed == 50                                              # the last block of 10 steps written
    obj = stm_objective()
    sampling.run(obj, path, max_steps=120, resume=True, converge=False, check_every=10)
    sampling.run(obj, tmp_path / "whole.h5", max_steps=120, seed=9, converge=False, check_every=10)
    assert np.array_equal(chain(path), chain(tmp_path / "whole.h5"))


def test_stops_on_convergence(tmp_path):
    info = sampling.run(stm_objective(), tmp_path / "c.h5", max_steps=20000, seed=1)
    assert info.converged and info.nsteps < 20000
    assert info.n_over_tau >= 50 and 0.3 < info.acceptance < 0.9
    capped = sampling.run(stm_objective(), tmp_path / "d.h5", max_steps=150, seed=1)
    assert not capped.converged and capped.nsteps == 150 and capped.tau is not None


def test_the_chain_file_is_the_one_emcee_writes_in_one_write_per_block(tmp_path, monkeypatch):
    obj = stm_objective()
    start = sampling.initial_walkers(obj, 16, [2.0, 1.5], np.diag([0.01, 0.01]), rng=0)
    writes, open_file = [], emcee.backends.HDFBackend.open

    def counted_open(self, mode="r"):
        if mode != "r":
            writes.append(mode)
        return open_file(self, mode)

    monkeypatch.setattr(emcee.backends.HDFBackend, "open", counted_open)
    sampling.run(obj, tmp_path / "blocks.h5", max_steps=200, seed=3, start=start, converge=False, check_every=20)
    assert len(writes) <= 200 // 20 + 4         # one per block, + reset, grow and glassfit's record twice
    monkeypatch.setattr(emcee.backends.HDFBackend, "open", open_file)
    plain = emcee.backends.HDFBackend(str(tmp_path / "emcee.h5"))
    plain.reset(16, 2)
    emcee.EnsembleSampler(16, 2, obj.logpost, backend=plain).run_mcmc(
        emcee.State(start, random_state=np.random.RandomState(3).get_state()), 200)
    ours = emcee.backends.HDFBackend(str(tmp_path / "blocks.h5"), read_only=True)
    assert ours.iteration == plain.iteration == 200 and np.array_equal(ours.accepted, plain.accepted)
    assert np.array_equal(ours.get_chain(), plain.get_chain())
    assert np.array_equal(ours.get_log_prob(), plain.get_log_prob())
    assert all(np.array_equal(a, b) for a, b in zip(ours.random_state, plain.random_state, strict=True))


def test_a_block_write_that_fails_part_way_is_redone_on_the_way_out(tmp_path, monkeypatch):
    obj = stm_objective()
    sampling.run(obj, tmp_path / "long.h5", max_steps=90, seed=4, converge=False, check_every=20)
    setitem, rows = h5py.Dataset.__setitem__, []

    def failing(dataset, key, value):                # the second block's log-probabilities fail once
        if dataset.name.endswith("log_prob"):
            rows.append(key)
            if len(rows) == 2:
                raise OSError("injected write failure")
        setitem(dataset, key, value)

    monkeypatch.setattr(h5py.Dataset, "__setitem__", failing)
    with pytest.raises(OSError, match="injected"):
        sampling.run(obj, tmp_path / "part.h5", max_steps=90, seed=4, converge=False, check_every=20)
    monkeypatch.setattr(h5py.Dataset, "__setitem__", setitem)
    assert results.Posterior.load(tmp_path / "part.h5").nsteps == 40
    sampling.run(obj, tmp_path / "part.h5", max_steps=90, resume=True, converge=False, check_every=20)
    long, part = (results.Posterior.load(tmp_path / f"{name}.h5") for name in ("long", "part"))
    assert np.array_equal(long.chain, part.chain) and np.array_equal(long.acceptance, part.acceptance)


def test_pool_gives_the_serial_chain(tmp_path):
    obj = stm_objective()
    sampling.run(obj, tmp_path / "serial.h5", max_steps=40, seed=4, converge=False)
    sampling.run(obj, tmp_path / "pool.h5", max_steps=40, seed=4, converge=False, processes=2)
    assert np.array_equal(chain(tmp_path / "serial.h5"), chain(tmp_path / "pool.h5"))


def test_outside_pools_give_the_serial_chain(tmp_path):
    from concurrent.futures import ProcessPoolExecutor

    from distributed import Client, LocalCluster

    obj = stm_objective()
    sampling.run(obj, tmp_path / "serial.h5", max_steps=40, seed=4, converge=False)
    with ProcessPoolExecutor(2) as pool:
        sampling.run(obj, tmp_path / "executor.h5", max_steps=40, seed=4, converge=False, pool=pool, slices=3)
    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=":0") as cluster, Client(cluster) as client:
        sampling.run(obj, tmp_path / "dask.h5", max_steps=40, seed=4, converge=False, pool=client.get_executor())
    for name in ("executor", "dask"):
        assert np.array_equal(chain(tmp_path / "serial.h5"), chain(tmp_path / f"{name}.h5")), name
    with pytest.raises(ValueError, match="processes=1 and batched=True"):
        sampling.run(obj, tmp_path / "x.h5", max_steps=5, pool=pool, processes=2)
    with pytest.raises(ValueError, match="must have a map method"):
        sampling.run(obj, tmp_path / "y.h5", max_steps=5, pool=object())


def nan_above_half(x, a):
    return np.where(a > 0.5, np.nan, a * x)


def test_nonfinite_log_posterior_is_counted_across_processes(tmp_path, caplog):
    model = lmfit.Model(nan_above_half)
    model.set_param_hint("a", value=0.45, min=0.0, max=1.0)
    x = np.linspace(1, 2, 10)
    obj = Objective(model, Dataset({"x": x}, 0.45 * x, 0.5))
    start = np.linspace(0.40, 0.49, 8)[:, None]
    with caplog.at_level(logging.WARNING, logger="glassfit.objective"):
        info = sampling.run(obj, tmp_path / "nan.h5", max_steps=50, seed=0, start=start, nwalkers=8, converge=False)
    assert info.n_nonfinite > 0 and "returning -inf" in caplog.text
    assert np.all(chain(tmp_path / "nan.h5") <= 0.5)
    pooled = sampling.run(obj, tmp_path / "nan2.h5", max_steps=50, seed=0, start=start, nwalkers=8, converge=False,
                          processes=2)
    assert pooled.n_nonfinite == info.n_nonfinite
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(2) as pool:
        outside = sampling.run(obj, tmp_path / "nan3.h5", max_steps=50, seed=0, start=start, nwalkers=8,
                               converge=False, pool=pool)
    assert outside.n_nonfinite == info.n_nonfinite


def test_bad_inputs(tmp_path):
    obj = stm_objective()
    run = sampling.run
    with pytest.raises(ValueError, match=r"nwalkers must be an even integer ≥ 2·ndim = 4, got 3"):
        run(obj, tmp_path / "a.h5", max_steps=10, nwalkers=3)
    with pytest.raises(ValueError, match="nwalkers must be an even integer"):
        run(obj, tmp_path / "a.h5", max_steps=10, nwalkers=7)
    with pytest.raises(ValueError, match="max_steps must be an integer ≥ 1"):
        run(obj, tmp_path / "a.h5", max_steps=0)
    with pytest.raises(ValueError, match="processes must be an integer"):
        run(obj, tmp_path / "a.h5", max_steps=5, processes=0)
    with pytest.raises(ValueError, match="does not exist"):
        run(obj, tmp_path / "none.h5", max_steps=5, resume=True)
    with pytest.raises(ValueError, match=r"start must be a finite \(16, 2\) array"):
        run(obj, tmp_path / "b.h5", max_steps=5, start=np.ones((16, 3)))
    with pytest.raises(ValueError, match="the start θ must be 2 finite numbers"):
        optimize.least_squares(obj, [1.0])
    with pytest.raises(ValueError, match=r"start value P0 = 1e\+06 \(prior support \[0.0001, 10000\]\) lies outside"):
        optimize.least_squares(obj, [1e6, 1.0])
    run(obj, tmp_path / "c.h5", max_steps=5, converge=False)
    with pytest.raises(ValueError, match="already exists; pass resume=True"):
        run(obj, tmp_path / "c.h5", max_steps=5)
    with pytest.raises(ValueError, match="has 16 walkers, not 20"):
        run(obj, tmp_path / "c.h5", max_steps=10, nwalkers=20, resume=True)
    with pytest.raises(ValueError, match="chain of another posterior"):
        run(stm_objective(seed=3), tmp_path / "c.h5", max_steps=10, resume=True)
    (tmp_path / "junk.h5").write_bytes(b"not an hdf5 file")
    with pytest.raises(ValueError, match="not a glassfit chain file"):
        run(obj, tmp_path / "junk.h5", max_steps=10, resume=True)


def test_least_squares_gives_flat_directions_the_prior_width():
    # y = a·b·x fixes only the product: (JᵀJ)⁺ would call the flat direction exactly known
    import lmfit

    from glassfit.dataset import Dataset
    from glassfit.objective import Objective
    from glassfit.optimize import least_squares
    from glassfit.priors import Uniform

    model = lmfit.Model(lambda x, a, b: a * b * x)
    params = model.make_params(a=2.0, b=3.0)
    x = np.linspace(1.0, 2.0, 8)
    data = Dataset({"x": x}, 6.0 * x, 0.01)
    objective = Objective(model, data, params, priors={"a": Uniform(0.1, 10.0), "b": Uniform(0.1, 10.0)})
    theta, cov = least_squares(objective)
    assert theta[0] * theta[1] == pytest.approx(6.0, rel=1e-6)
    flat = np.array([theta[0], -theta[1]]) / np.hypot(*theta)       # d(ab) = 0 along (a, −b)
    assert flat @ cov @ flat > 1.0                                   # ≈ prior variance (9.9·0.34)² ~ 11
    steep = np.array([theta[1], theta[0]]) / np.hypot(*theta)
    assert steep @ cov @ steep < 1e-4                                # the product: σ ≈ 0.01/|x| scale


def test_a_full_disk_stops_cleanly_and_the_chain_resumes_bit_for_bit(tmp_path, monkeypatch):
    obj = stm_objective()
    sampling.run(obj, tmp_path / "long.h5", max_steps=90, seed=4, converge=False, check_every=20)
    real, calls = sampling.shutil.disk_usage, []

    def filling(path):                              # the disk fills up before the third block
        calls.append(path)
        usage = real(path)
        return usage._replace(free=usage.free if len(calls) <= 2 else 1000)

    monkeypatch.setattr(sampling.shutil, "disk_usage", filling)
    with pytest.raises(sampling.DiskFullError, match=r"only 0.0 MB free .* keeps its 40 complete steps"):
        sampling.run(obj, tmp_path / "part.h5", max_steps=90, seed=4, converge=False, check_every=20)
    monkeypatch.setattr(sampling.shutil, "disk_usage", real)
    assert results.Posterior.load(tmp_path / "part.h5").nsteps == 40            # the file is intact
    sampling.run(obj, tmp_path / "part.h5", max_steps=90, resume=True, converge=False, check_every=20)
    assert np.array_equal(chain(tmp_path / "long.h5"), chain(tmp_path / "part.h5"))


def test_ctrl_c_with_a_process_pool_stops_cleanly(tmp_path):
    out = tmp_path / "interrupted-pool-run"
    command = [sys.executable, "-m", "glassfit", "fit", "synthetic-stm-heat-capacity", "--model", "stm",
               "--processes", "2", "--steps", "1000000", "--no-until-converged", "--out", str(out)]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    chain_file = out / "chain.h5"
    for _ in range(600):                                    # until the sampler has started writing the chain
        if proc.poll() is not None or (chain_file.exists() and chain_file.stat().st_size > 20_000):
            break                                           # (a run that failed at once is reported below)
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGINT)                      # Ctrl-C reaches the whole process group
    try:
        _, err = proc.communicate(timeout=60)               # a hang fails here
    finally:
        subprocess.run(["pkill", "-9", "-f", str(out)], check=False)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and err.strip().splitlines()[-1].startswith("glassfit: interrupted")
    assert results.Posterior.load(chain_file).nsteps >= 100                       # every finished block is kept
    leftover = subprocess.run(["pgrep", "-f", str(out)], capture_output=True, text=True).stdout.split()
    assert leftover == []                                                         # no orphan workers
