"""Cheap objectives shared by the inference tests (a straight line, synthetic STM c(T))."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import lmfit
import numpy as np

from glassfit.dataset import Dataset
from glassfit.models import STMHeatCapacityModel
from glassfit.objective import Objective


def line(x, a, b):
    """a + b x (top level so that the model pickles)."""
    return a + b * x


def line_model(lo: float = -10.0, hi: float = 10.0) -> lmfit.Model:
    model = lmfit.Model(line)
    for name, value in (("a", 1.0), ("b", 2.0)):
        model.set_param_hint(name, value=value, min=lo, max=hi)
    return model


def line_objective(seed=0, n=20, a=1.0, b=2.0, sigma=0.1, name="line", noise="known") -> Objective:
    """Straight-line data with Gaussian noise σ at x = 0 … 1."""
    rng = np.random.default_rng(seed)
    x = np.linspace(0.0, 1.0, n)
    y = line(x, a, b) + sigma * rng.normal(size=n)
    return Objective(line_model(), Dataset({"x": x}, y, sigma, id=name), noise=noise)


STM_TRUTH = {"P0": 2.0, "c3": 1.5}


def stm_data(seed=0, rel=0.02, name="stm c(T)", n=30):
    """Synthetic STM c(T) (free T³ phonons) with 2 % noise, 0.05–2 K, and its model."""
    model = STMHeatCapacityModel(phonons="free")
    params = model.make_params()
    for k, v in STM_TRUTH.items():
        params[k].set(value=v)
    T = np.geomspace(0.05, 2.0, n)
    truth = model.eval(params, T=T)
    y = truth * (1 + rel * np.random.default_rng(seed).normal(size=T.size))
    return model, Dataset({"T": T}, y, rel * truth, id=name, nature="synthetic")


def stm_objective(seed=0, **kwargs) -> Objective:
    model, data = stm_data(seed)
    return Objective(model, data, **kwargs)


def run_until_killed(tmp_path, source: str, target) -> None:
    """Run the Python ``source`` (its argv[1] = ``target``) in a child process that must end by SIGKILL."""
    script = Path(tmp_path) / "killed.py"
    script.write_text(textwrap.dedent(source))
    tests = Path(__file__).parent
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tests.parent), str(tests)]))
    proc = subprocess.run([sys.executable, str(script), str(target)], env=env, capture_output=True, timeout=300)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()
