"""One run directory = one run: atomic files, one writer at a time, no figures of another run (glassfit.rundir)."""

import errno
import json
import multiprocessing
import os

import pytest

from glassfit import rundir
from glassfit.cli import main

STM_DATA = "synthetic-stm-heat-capacity"


def test_a_failed_write_leaves_the_previous_file(tmp_path, monkeypatch):
    path = rundir.write_text(tmp_path / "run.json", '{"old": 1}')

    def full_disk(*_):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(OSError, match="No space left"):
        rundir.write_text(path, '{"new": 2}')
    assert json.loads(path.read_text()) == {"old": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.json"]            # no temporary file left


def _hold(directory, ready, release):
    with rundir.lock(directory):
        ready.set()
        release.wait(30)


def test_a_second_writer_is_refused_and_the_lock_dies_with_its_holder(tmp_path):
    ctx = multiprocessing.get_context("fork")
    ready, release = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold, args=(tmp_path / "run", ready, release))
    holder.start()
    assert ready.wait(30)
    with pytest.raises(ValueError, match="is being written by another glassfit run"):
        with rundir.lock(tmp_path / "run"):
            pass
    holder.kill()                                                  # kill -9: the flock goes with the process
    holder.join()
    with rundir.lock(tmp_path / "run"):
        pass


def test_least_squares_into_an_emcee_run_is_refused(tmp_path, capsys):
    out = tmp_path / "r"
    assert main(["--quiet", "fit", STM_DATA, "--model", "stm", "--steps", "100", "--no-until-converged",
                 "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["fit", STM_DATA, "--model", "stm", "--method", "leastsq", "--out", str(out)]) == 2
    assert "holds an emcee run (chain.h5)" in capsys.readouterr().err


def test_the_report_shows_only_this_runs_figures(tmp_path, capsys):
    out = tmp_path / "r"
    out.mkdir()
    (out / "corner.png").write_bytes(b"an older run's figure")
    assert main(["--quiet", "fit", STM_DATA, "--model", "stm", "--method", "leastsq", "--out", str(out)]) == 0
    capsys.readouterr()
    report = (out / "report.md").read_text()
    assert "![fit.png](fit.png)" in report and "corner.png" not in report
