"""The study engine (glassfit.study): seeds, the results file, resume, dask.distributed and the command line."""

import dataclasses
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

from glassfit import study
from glassfit.cli import main

SPEC = """
[study]
kind = "sbc"
seed = 7
replicates = 6
per_task = 2

[sbc]
draws = 19
bins = 5
walkers = 8
steps = {steps}
burn = 40

[[sbc.case]]
name = "stm-heat"
free = {{ P0 = "uniform(0.5, 2.0)" }}
  [[sbc.case.data]]
  model = "stm_heat_capacity"
  T = {{ geomspace = [0.1, 1.0, 8] }}
  noise = 0.02

[[sbc.case]]
name = "stm-heat-10pc"
free = {{ P0 = "uniform(0.5, 2.0)" }}
  [[sbc.case.data]]
  model = "stm_heat_capacity"
  T = [0.1, 0.2, 0.4]
  noise = 0.1
"""


def spec_file(tmp_path, name="study.toml", steps=120, **head):
    text = SPEC.format(steps=steps)
    for key, value in head.items():
        text = text.replace(f"\n{key} = ", f"\n{key} = {value!r}  # ", 1) if f"\n{key} = " in text else \
            text.replace("[study]\n", f"[study]\n{key} = {value!r}\n", 1)
    path = Path(tmp_path) / name
    path.write_text(text)
    return path


def table(path) -> dict:
    """The results without the wall times: the columns that must agree bit for bit."""
    return {cell: t.drop(columns=study.SECONDS) for cell, t in study.read_results(path).items()}


def assert_same(a: dict, b: dict):
    assert a.keys() == b.keys()
    for cell in a:
        assert a[cell].equals(b[cell]), cell


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    """The reference: the study run in this process, one replicate a task."""
    spec = study.load(spec_file(tmp_path_factory.mktemp("serial"), per_task=1))
    run = study.run(spec, workers=0, progress=False)
    assert (run.ran, run.skipped, run.left, run.complete) == (12, 0, 0, True)
    return table(spec.results)


def test_seeds_depend_on_cell_and_replicate_only():
    a = study.replicate_seed(7, 1, 3).generate_state(4)
    assert np.array_equal(a, study.replicate_seed(7, 1, 3).generate_state(4))
    others = [study.replicate_seed(*args).generate_state(4) for args in ((7, 3, 1), (7, 1, 4), (8, 1, 3))]
    assert not any(np.array_equal(a, b) for b in others)


def test_results_do_not_depend_on_task_size(tmp_path, serial):
    spec = study.load(spec_file(tmp_path, per_task=4))
    study.run(spec, workers=0, progress=False)
    assert_same(table(spec.results), serial)
    rows = serial["stm-heat"]
    assert list(rows["replicate"]) == list(range(6))
    assert rows["rank[P0]"].between(0, 19).all() and rows["truth[P0]"].between(0.5, 2.0).all()
    assert len(set(rows["truth[P0]"])) == 6                        # every replicate its own draw


def test_stopped_study_resumes_with_the_missing_tasks_only(tmp_path, serial):
    spec = study.load(spec_file(tmp_path))
    first = study.run(spec, workers=0, max_tasks=2, progress=False)
    assert (first.ran, first.left, first.complete) == (2, 4, False)
    assert {cell: len(t) for cell, t in table(spec.results).items()} == {"stm-heat": 4}
    rest = study.run(spec, workers=0, progress=False)
    assert (rest.ran, rest.skipped, rest.left) == (4, 4, 0)
    assert_same(table(spec.results), serial)
    again = study.run(spec, workers=0, progress=False)
    assert (again.ran, again.skipped) == (0, 12)


def test_more_replicates_extend_a_study_and_other_settings_are_refused(tmp_path):
    spec = study.load(spec_file(tmp_path))
    study.run(dataclasses.replace(spec, replicates=2), workers=0, progress=False)
    assert study.run(spec, workers=0, progress=False).ran == 4             # 2 more replicates of 2 cells, 2 a task
    other = study.load(spec_file(tmp_path, seed=8))
    with pytest.raises(ValueError, match="results of another study"):
        study.run(other, workers=0, progress=False)


def test_rows_after_the_last_complete_task_are_dropped(tmp_path, serial):
    import h5py

    spec = study.load(spec_file(tmp_path))
    study.run(spec, workers=0, max_tasks=1, progress=False)
    with h5py.File(spec.results, "a") as f:                 # a task cut short: columns written, replicates not
        for name, column in f["cell0"].items():
            if name != "replicate":
                column.resize(column.shape[0] + 2, axis=0)
                column[-2:] = -1.0
    study.run(spec, workers=0, progress=False)
    assert_same(table(spec.results), serial)


def test_local_cluster_equals_serial_bit_for_bit(tmp_path, serial):
    spec = study.load(spec_file(tmp_path, per_task=3))
    run = study.run(spec, workers=2, progress=False)
    assert (run.workers, run.ran, run.left) == (2, 4, 0)
    assert_same(table(spec.results), serial)


def test_killed_worker_is_replaced_and_its_task_rerun(tmp_path):
    from distributed import Client, LocalCluster

    spec = study.load(spec_file(tmp_path, steps=600, per_task=3))          # tasks of ≈ 1.5 s: a kill lands inside
    reference = dataclasses.replace(spec, results=tmp_path / "reference.h5")
    study.run(reference, workers=0, progress=False)
    killed = []
    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=":0") as cluster, Client(cluster) as client:
        def kill_a_busy_worker():
            while not killed:
                busy = [addr for addr, keys in client.processing().items() if keys]
                if busy:
                    time.sleep(0.3)
                    pid = client.run(os.getpid, workers=[busy[0]])[busy[0]]
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)
                time.sleep(0.05)

        killer = threading.Thread(target=kill_a_busy_worker, daemon=True)
        killer.start()
        run = study.run(spec, scheduler=client, progress=False)
        killer.join(timeout=5)
        assert killed and run.complete
        assert killed[0] not in client.run(os.getpid).values()           # the nanny started a new process
    assert_same(table(spec.results), table(reference.results))


INTERRUPTED = """
    import os, signal, sys
    from glassfit import study
    from glassfit.cli import main

    append, written = study.ResultsFile.append, []

    def append_then_interrupt(self, task, rows):
        append(self, task, rows)
        written.append(task)
        if len(written) == 2:                     # Ctrl-C after two finished tasks, the others in flight
            os.kill(os.getpid(), signal.SIGINT)

    study.ResultsFile.append = append_then_interrupt
    if __name__ == "__main__":
        sys.exit(main(["study", sys.argv[1], "--workers", "2", "--quiet"]))
"""


def test_interrupted_study_exits_130_and_resumes(tmp_path, serial):
    path = spec_file(tmp_path)
    script = tmp_path / "interrupted.py"
    script.write_text(textwrap.dedent(INTERRUPTED))
    proc = subprocess.run([sys.executable, str(script), str(path)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 130, proc.stderr
    assert proc.stderr.strip().splitlines() == ["glassfit: interrupted; a chain keeps every finished step, a nested "
                                                "run its last checkpoint (continue with --resume), a study every "
                                                "finished task (run it again)"]
    spec = study.load(path)
    assert sum(len(t) for t in table(spec.results).values()) == 4        # two tasks of two replicates
    rest = study.run(spec, workers=0, progress=False)
    assert (rest.ran, rest.skipped) == (4, 4)
    assert_same(table(spec.results), serial)


def test_command_line_runs_and_summarises(tmp_path, capsys):
    path = spec_file(tmp_path)
    assert main(["study", str(path), "--workers", "0", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "6 tasks run on 1 worker(s)" in out and "0 tasks left" in out and "rank_chi2_p" in out
    assert (tmp_path / "study-summary.csv").exists() and (tmp_path / "study.png").exists()
    assert main(["study", str(path), "--summary"]) == 0
    assert "tasks run" not in capsys.readouterr().out


@pytest.mark.parametrize(("text", "message"), [
    ("[study]\nkind = 'sbc'\nseed = 1\n", "needs 'replicates'"),
    ("[study]\nkind = 'mcmc'\nseed = 1\nreplicates = 2\n", "unknown study kind 'mcmc'"),
    ("[study]\nkind = 'sbc'\nseed = 1\nreplicates = 0\n", "replicates must be an integer ≥ 1"),
    ("[study]\nkind = 'sbc'\nseed = 1\nreplicates = 2\nworkers = 3\n", r"unknown keys \['workers'\]"),
    ("[study]\nkind = 'sbc'\nseed = 1\nreplicates = 2\n[sbc]\n", r"declares no \[\[sbc.case\]\]"),
    ("[study]\nkind = 'sbc'\nseed = 1\nreplicates = 2\n[sbc]\ndraws = 100\n", "multiple of bins"),
    ("[study]\nkind = 'sbc'\nseed = 1\nreplicates = 2\n[[sbc.case]]\nname = 'a'\nfree = {P0 = 'uniform(1, 2)'}\n"
     "[[sbc.case.data]]\nmodel = 'stm_heat'\nT = [1]\nnoise = 0.1\n", "unknown model 'stm_heat'"),
    ("[study]\nkind = 'sbc'\nseed = 1\nreplicates = 2\n[[sbc.case]]\nname = 'a'\nfree = {P0 = 'uniform(1, 2)'}\n"
     "[[sbc.case.data]]\nmodel = 'stm_heat_capacity'\nf = [1]\nnoise = 0.1\n", r"takes the grid of \['T'\]"),
    ("[study]\nkind = 'sbc'\nseed = 1\nreplicates = 2\n[[sbc.case]]\nname = 'a'\nfree = {P0 = 'flat(1, 2)'}\n",
     "cannot read the prior"),
    ("[study]\nkind = 'sbc'\nseed = 1\nreplicates = 2\n[[sbc.case]]\nname = 'a'\nfree = {Q = 'uniform(1, 2)'}\n"
     "[[sbc.case.data]]\nmodel = 'stm_heat_capacity'\nT = [0.1, 0.2]\nnoise = 0.1\n",
     r"free parameters \[.Q.\] are not parameters"),
    ("[study\n", "not valid TOML"),
])
def test_bad_study_files_give_one_line(tmp_path, capsys, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        study.load(path)
    assert main(["study", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("glassfit study: error:")


def test_bad_run_arguments(tmp_path):
    spec = study.load(spec_file(tmp_path))
    with pytest.raises(ValueError, match="workers must be an integer"):
        study.run(spec, workers=-1)
    with pytest.raises(ValueError, match="give no scheduler"):
        study.run(spec, workers=0, scheduler="tcp://localhost:1")
    with pytest.raises(ValueError, match="no finished replicate"):
        study.summarize(spec)


def test_readme_batch_cluster_example_makes_a_valid_job_script():
    """The README's dask-jobqueue example, up to scaling: the SLURM job it would submit (the scheduler's
    dashboard on a free port, in case another cluster holds 8787 on this machine)."""
    import dask
    import dask_jobqueue  # noqa: F401  (loads its config defaults)

    readme = (Path(__file__).parent.parent / "README.md").read_text()
    block = readme[readme.index("from dask_jobqueue import"):]
    block = block[:block.index("cluster.scale(")]
    namespace = {}
    with dask.config.set({"jobqueue.slurm.scheduler-options": {"dashboard_address": ":0"}}):
        exec(block, namespace)
    cluster = namespace["cluster"]
    try:
        script = cluster.job_script()
    finally:
        cluster.close()
    assert "#SBATCH --partition=short" in script and "#SBATCH -t 02:00:00" in script
    assert "distributed.cli.dask_worker" in script and "--nthreads 1" in script


@pytest.mark.parametrize("path", sorted((Path(__file__).parent.parent / "docs" / "studies").glob("*.toml")),
                         ids=lambda p: p.name)
def test_the_committed_studies_load_and_own_their_results_files(path):
    """Every study file of docs/studies parses, and a committed results file beside it belongs to it (same
    fingerprint: an edit of the file's settings would otherwise orphan the results), its cells among the study's."""
    s = study.load(path)
    assert s.plan.cells and s.replicates >= 200
    if s.results.exists():
        with h5py.File(s.results, "r", locking=False) as f:
            assert f.attrs["fingerprint"] == s.fingerprint
            assert {group.attrs["label"] for group in f.values()} <= set(s.plan.cells)
