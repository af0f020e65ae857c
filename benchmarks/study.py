"""Study engine benchmark: one SBC study run serially and on a LocalCluster of 2 workers, same run, same table.

The study: 24 replicates of the KKI c(T) case of docs/studies/sbc-kki.toml (12 temperatures, η_c and log10 N
free, 32 walkers × 500 steps), 2 replicates a task.  Prints the wall time of each way (the cluster's start
included), the speed-up (ideal 2 on 2 cores), the engine's cost per task (submit, result, HDF5 append) measured on
200 tasks of a few milliseconds (an STM replicate of 4 steps), and whether both tables agree bit for bit.

Run: python benchmarks/study.py
"""

from __future__ import annotations

import dataclasses
import tempfile
import time
from pathlib import Path

from glassfit import sbc, study

HERE = Path(__file__).parent
SPEC = HERE.parent / "docs" / "studies" / "sbc-kki.toml"


def timed_run(spec, **kwargs):
    t0 = time.perf_counter()
    done = study.run(spec, progress=False, **kwargs)
    return time.perf_counter() - t0, done


def main():
    full = study.load(SPEC)
    plan = dataclasses.replace(full.plan, cases=full.plan.cases[:1])
    with tempfile.TemporaryDirectory() as tmp:
        base = dataclasses.replace(full, plan=plan, replicates=24, per_task=2)
        serial = dataclasses.replace(base, results=Path(tmp) / "serial.h5")
        cluster = dataclasses.replace(base, results=Path(tmp) / "cluster.h5")
        t_serial, _ = timed_run(serial, workers=0)
        t_cluster, _ = timed_run(cluster, workers=2)
        same = all(a.drop(columns=study.SECONDS).equals(b.drop(columns=study.SECONDS)) for a, b in
                   zip(study.read_results(serial.results).values(), study.read_results(cluster.results).values(),
                       strict=True))
        per_replicate = study.read_results(serial.results)["kki-heat"][study.SECONDS].mean()
        stm = sbc.parse({"draws": 9, "bins": 5, "walkers": 8, "steps": 4, "burn": 1, "case": [
            {"name": "stm", "free": {"P0": "uniform(0.5, 2)"},
             "data": [{"model": "stm_heat_capacity", "T": [0.1, 0.2, 0.4], "noise": 0.05}]}]}, HERE)
        tiny = dataclasses.replace(base, plan=stm, replicates=200, per_task=1)
        t_tiny_serial, _ = timed_run(dataclasses.replace(tiny, results=Path(tmp) / "tiny-serial.h5"), workers=0)
        t_tiny_cluster, _ = timed_run(dataclasses.replace(tiny, results=Path(tmp) / "tiny-cluster.h5"), workers=2)
    print(f"KKI c(T) SBC, 24 replicates, 12 tasks: serial {t_serial:.1f} s ({per_replicate:.2f} s a replicate), "
          f"LocalCluster(2) {t_cluster:.1f} s with its start, speed-up {t_serial / t_cluster:.2f} × (ideal 2)")
    print(f"tables identical bit for bit: {same}")
    print(f"200 trivial tasks: serial {t_tiny_serial:.1f} s, LocalCluster(2) {t_tiny_cluster:.1f} s "
          f"({(t_tiny_cluster - t_tiny_serial / 2) / 200 * 1e3:.0f} ms a task of engine cost beyond the work)")


if __name__ == "__main__":
    main()
