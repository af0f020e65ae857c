"""Benchmark of the Bayesian inference layer (posterior, emcee sampler, process pool).

1. Overhead of Objective.logpost and of the whole sampler (emcee moves, HDF5 chain, τ checks) over the raw
   model function, per evaluation, for a microsecond model (STM c(T)) and a millisecond one (KKI c(T)).
2. Speed-up of a 2-process pool over serial sampling on a KKI joint posterior, walker by walker and batched
   (each half-ensemble one ``logpost_batch``, split between the processes).
3. End-to-end joint KKI posterior — synthetic c(T) + κ(T) + l(ω, T) + c(T, t), all shared parameters
   (η_c, ξ_c, log10 N, χ_1, χ_2) free — sampled on 2 processes in blocks of steps (resuming the chain)
   until the smallest effective sample size reaches 1000 (split-R̂ ≤ 1.01) or the time budget is spent, with
   emcee's stretch move or a differential-evolution mixture (``--moves de``), batched and walker by walker,
   same walkers, seed and moves.

Run: ``PYTHONPATH=. python benchmarks/sampling.py [--budget SECONDS] [--moves stretch|de] [--walkers N]
[--only-joint] [--paths batched unbatched]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import timeit
from pathlib import Path

import emcee
import numpy as np

from glassfit import optimize, results, sampling
from glassfit.dataset import Dataset
from glassfit.models import (
    KKIAttenuationModel,
    KKIConductivityModel,
    KKIHeatCapacityModel,
    KKITimeHeatModel,
    STMHeatCapacityModel,
)
from glassfit.objective import JointObjective, Objective

TRUTH = {"eta_c": 0.8, "xi_c": 1.2, "log10_N": 26.5, "chi_1": 1.0, "chi_2": 1.0}


def synthetic(model, x, free, name, seed, rel=0.02):
    """Objective of synthetic data from ``model`` at TRUTH with relative noise ``rel``; ``free`` parameters vary."""
    params = model.make_params()
    for k in params:
        if k in TRUTH:
            params[k].set(value=TRUTH[k])
        if not params[k].expr:
            params[k].set(vary=k in free)
    truth = model.eval(params, **x)
    y = truth * (1 + rel * np.random.default_rng(seed).normal(size=truth.size))
    return Objective(model, Dataset(x, y, rel * np.abs(truth), id=name, nature="synthetic"), params=params)


def per_call(fn, repeat=5):
    """Best-of-``repeat`` time of one call [s]."""
    number = max(1, int(0.2 / max(timeit.timeit(fn, number=1), 1e-7)))
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number


def overhead(label, objective, steps, workdir):
    theta = objective.theta()
    values = objective.values(objective.named(theta))
    model = objective.model
    args = {name[len(model.prefix):]: values[name] for name in model.param_names}    # the model function's names
    x = objective.data.x
    t_raw = per_call(lambda: objective.model.func(**x, **args))
    t_post = per_call(lambda: objective.logpost(theta))
    walkers = 16
    start = sampling.initial_walkers(objective, walkers, *optimize.least_squares(objective), rng=0)
    info = sampling.run(objective, workdir / f"{label}.h5", max_steps=steps, nwalkers=walkers, start=start,
                        converge=False)
    t_run = info.elapsed / (steps * walkers)
    print(f"{label:<22}{t_raw * 1e6:>10.1f}{t_post * 1e6:>12.1f}{100 * (t_post / t_raw - 1):>9.1f} %"
          f"{t_run * 1e6:>12.1f}{100 * (t_run / t_raw - 1):>9.1f} %")


def joint_kki():
    """The four synthetic KKI observables, every shared parameter free (w, η_L, ξ_L, ρ, velocities fixed)."""
    free = tuple(TRUTH)
    T = np.geomspace(0.05, 0.5, 8)
    T6 = np.tile(np.geomspace(0.05, 0.5, 6), 2)
    parts = [
        synthetic(KKIHeatCapacityModel(), {"T": T}, free, "c(T)", 1),
        synthetic(KKIConductivityModel(plateau="none"), {"T": T}, free, "kappa(T)", 2),
        synthetic(KKIAttenuationModel(output="1/m"), {"f": np.repeat([1e3, 1e6], 6), "T": T6}, free, "l^-1(f, T)", 3),
        synthetic(KKITimeHeatModel(), {"T": T6, "t": np.repeat([10.0, 1000.0], 6)}, free, "c(T, t)", 4),
    ]
    return JointObjective(parts)


MOVES = {"stretch": None, "de": [(emcee.moves.DEMove(), 0.8), (emcee.moves.DESnookerMove(), 0.2)]}


def main(budget: float, moves: str, only_joint: bool, walkers: int, paths):
    workdir = Path(tempfile.mkdtemp(prefix="glassfit-bench-"))
    joint = joint_kki()
    if not only_joint:
        parts_1_2(workdir, joint)
    if budget > 0:
        for path in paths:
            end_to_end(workdir, joint, budget, moves, walkers, path == "batched")


def parts_1_2(workdir, joint):
    T = np.geomspace(0.05, 2.0, 30)
    print("1. overhead per evaluation (µs) over the raw model function, 30 temperatures")
    print(f"{'model':<22}{'raw':>10}{'logpost':>12}{'':>11}{'sampler':>12}")
    overhead("STM c(T)", synthetic(STMHeatCapacityModel(phonons="free"), {"T": T}, ("P0", "c3"), "stm", 0), 2000,
             workdir)
    overhead("KKI c(T)", synthetic(KKIHeatCapacityModel(), {"T": T}, ("eta_c", "log10_N"), "kki", 0), 200, workdir)

    theta = joint.theta(TRUTH)
    t_eval = per_call(lambda: joint.logpost(theta), repeat=3)
    print(f"\njoint KKI posterior: {joint.ndim} free parameters, "
          f"{sum(d.y.size for d in joint.datasets)} points, logpost {t_eval * 1e3:.1f} ms")
    for o in joint.objectives:
        t_part = per_call(lambda o=o: o.logpost(o.theta(TRUTH)))
        print(f"  {o.data.id:<12} {o.data.y.size:3d} points  {t_part * 1e3:6.2f} ms")

    print("\n2. pool speed-up (joint KKI, 32 walkers × 30 steps)")
    start = sampling.initial_walkers(joint, 32, *optimize.least_squares(joint, theta), rng=0)
    elapsed = {}
    for batched in (False, True):
        for processes in (1, 2):
            info = sampling.run(joint, workdir / f"pool{processes}{batched}.h5", max_steps=30, nwalkers=32,
                                start=start, processes=processes, converge=False, batched=batched)
            elapsed[batched, processes] = info.elapsed
            print(f"  {'batched' if batched else 'walker by walker'}, processes={processes}: {info.elapsed:6.1f} s")
    print(f"  pool speed-up: {elapsed[False, 1] / elapsed[False, 2]:.2f} × walker by walker, "
          f"{elapsed[True, 1] / elapsed[True, 2]:.2f} × batched (ideal 2 ×); batched + pool over walker by walker "
          f"serial: {elapsed[False, 1] / elapsed[True, 2]:.2f} ×")


def end_to_end(workdir, joint, budget, moves, walkers, batched):
    how = "batched" if batched else "walker by walker"
    print(f"\n3. end-to-end joint KKI posterior on 2 processes, {how}, {walkers} walkers, {moves} moves "
          f"(budget {budget:.0f} s, target ESS ≥ 1000 with split-R̂ ≤ 1.01)")
    path, t0, done, ess, rhat = workdir / f"joint-{how}.h5", time.perf_counter(), 0, 0.0, np.inf
    block = max(50, 5000 // walkers)
    while time.perf_counter() - t0 < budget and (ess < 1000 or rhat > 1.01):
        done += block
        info = sampling.run(joint, path, max_steps=done, nwalkers=walkers, seed=0, resume=done > block, processes=2,
                            converge=False, check_every=50, moves=MOVES[moves], batched=batched)
        post = results.Posterior.load(path)
        summary = results.summarize(post, joint)
        ess = min(r.ess for r in summary.parameters)
        rhat = max(r.rhat for r in summary.parameters)
        print(f"  {time.perf_counter() - t0:6.0f} s  {info.nsteps:5d} steps  min ESS {ess:7.0f}  "
              f"max τ {max(r.tau for r in summary.parameters):6.1f}  max split-R̂ {rhat:.4f}")
    print(summary.table())
    covered = [r.name for r in summary.parameters if r.q16 <= TRUTH[r.name] <= r.q84]
    wall = time.perf_counter() - t0
    print(f"wall time {wall:.0f} s (includes the least-squares start), min ESS {ess:.0f} ({ess / wall:.1f} per s); "
          f"truth inside the 68 % interval for {len(covered)} of {len(summary.parameters)}: {covered}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=300.0, help="time budget of part 3 [s]; 0 skips it")
    parser.add_argument("--moves", choices=sorted(MOVES), default="de", help="proposal of part 3")
    parser.add_argument("--walkers", type=int, default=64, help="walkers of part 3")
    parser.add_argument("--paths", nargs="+", choices=("batched", "unbatched"), default=("batched", "unbatched"),
                        help="evaluation paths of part 3")
    parser.add_argument("--only-joint", action="store_true", help="run part 3 alone")
    args = parser.parse_args()
    main(args.budget, args.moves, args.only_joint, args.walkers, args.paths)
