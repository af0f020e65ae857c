"""A run's specification: :class:`RunSpec`, written to ``run.json`` and read back, and its command line.

One specification describes a :func:`glassfit.workflow.fit`: which data, which model family, which parameters
are free, fixed, tied, sampled in logarithms or given priors, the noise model, the global search and the sampler
settings.  :func:`save_spec` and :func:`load_spec` round-trip it exactly; :func:`command_line` gives the
``glassfit fit`` command that reproduces it.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from glassfit import expressions, models, optimize, rundir
from glassfit.loading import VARIABLES
from glassfit.objective import NOISE_MODELS

#: the two model families of every observable (glassfit.problem.FAMILIES)
FAMILY_NAMES = ("kki", "stm")
METHODS = ("leastsq", "emcee")


#: how the MAP is found before least squares reports it and before walkers start: a global search
#: (glassfit.optimize.METHODS) or "none" (local least squares from the start values only)
SEARCHES = optimize.METHODS


#: emcee proposals: the affine-invariant stretch move, or a differential-evolution mixture for strongly
#: correlated (ridge-like) posteriors
MOVES = ("stretch", "de")


def emcee_moves(name):
    """emcee proposals of ``name`` in :data:`MOVES`: None (emcee's stretch move) or the DE/snooker mixture."""
    import emcee

    return None if name == "stretch" else [(emcee.moves.DEMove(), 0.8), (emcee.moves.DESnookerMove(), 0.2)]


@dataclass(frozen=True)
class RunSpec:
    """What :func:`fit` does, in a form that is written to ``run.json`` and read back.

    ``sources``: catalog ids or file paths; ``model``: "kki", "stm" or a registry name; ``read`` (files only):
    keyword arguments of :func:`glassfit.loading.read_table` (observable, columns, units, sigma_rel), one
    dict for every file or a list of one per file in the order of the files;
    ``values``: NAME → value; ``free``/``fixed``: names to vary or hold; ``log``: positive parameters sampled
    as ln NAME (a new parameter ``ln_NAME``; NAME becomes derived) — for scales that the data fix only in
    combination, whose posterior ridges are straight in logarithms; ``ties``: NAME → lmfit expression of
    other parameters (e.g. ``{"chi_2": "chi_1"}``); ``priors``: NAME → prior text
    (:func:`glassfit.priors.prior_from_text`); ``noise``: "known", "scaled", "fitted" or "absolute"
    (:mod:`glassfit.objective`), for every dataset but those ``noise_of`` names (dataset id → noise model);
    ``window``: variable → (lo, hi), the points kept (e.g. ``{"T": (0.1, 1.1)}``, in K, Hz, s, photons); ``search``:
    the global search for the MAP (:data:`SEARCHES`) with ``starts`` local fits (default max(6, 2 d));
    ``t_exp``: the measurement time [s] of heat-capacity data (None: equilibrium, t → ∞).
    """

    sources: tuple[str, ...]
    model: str = "kki"
    method: str = "emcee"
    read: dict | list = field(default_factory=dict)
    values: dict = field(default_factory=dict)
    free: tuple[str, ...] = ()
    fixed: tuple[str, ...] = ()
    log: tuple[str, ...] = ()
    ties: dict = field(default_factory=dict)
    priors: dict = field(default_factory=dict)
    noise: str = "known"
    noise_of: dict = field(default_factory=dict)
    window: dict = field(default_factory=dict)
    walkers: int | None = None
    steps: int = 3000
    until_converged: bool = True
    seed: int = 0
    processes: int = 1
    moves: str = "stretch"
    search: str = "multistart"
    starts: int | None = None
    t_exp: float | None = None

    def __post_init__(self):
        if not self.sources:
            raise ValueError("give at least one dataset id or file")
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {self.method!r}")
        if self.moves not in MOVES:
            raise ValueError(f"moves must be one of {MOVES}, got {self.moves!r}")
        if not isinstance(self.steps, int) or self.steps < 1:
            raise ValueError(f"--steps must be an integer ≥ 1, got {self.steps!r}")
        cores = os.cpu_count() or 1
        if not isinstance(self.processes, int) or not 1 <= self.processes <= cores:
            raise ValueError(f"--processes must be between 1 and the {cores} cores of this machine, "
                             f"got {self.processes!r}")
        if self.walkers is not None and (self.walkers < 2 or self.walkers % 2):
            raise ValueError(f"--walkers must be an even number ≥ 2 (and ≥ 2 × the free parameters), "
                             f"got {self.walkers}")
        if self.search not in SEARCHES:
            raise ValueError(f"search must be one of {SEARCHES}, got {self.search!r}")
        if self.starts is not None and self.starts < 1:
            raise ValueError(f"--starts must be ≥ 1, got {self.starts}")
        if self.t_exp is not None and not (math.isfinite(self.t_exp) and self.t_exp > 0):
            raise ValueError(f"--t-exp must be a positive time in seconds, got {self.t_exp}")
        for name, noise in (("--noise", self.noise), *((f"--noise-of {k}", v) for k, v in self.noise_of.items())):
            if noise not in NOISE_MODELS:
                raise ValueError(f"{name}: the noise model must be one of {NOISE_MODELS}, got {noise!r}")
        for name, limits in self.window.items():
            if name not in VARIABLES or len(limits) != 2 or not limits[0] < limits[1]:
                raise ValueError(f"--window {name}: give a variable of {list(VARIABLES)} and LO:HI with LO < HI, "
                                 f"got {limits!r}")
        if self.model not in FAMILY_NAMES and self.model not in models.REGISTRY:
            raise ValueError(f"unknown model {self.model!r}; use one of {list(FAMILY_NAMES)} or a model of "
                             f"`glassfit models`: {sorted(models.REGISTRY)}")
        clash = sorted(set(self.free) & set(self.fixed))
        if clash:
            raise ValueError(f"parameters {clash} are both freed and fixed")
        for name in sorted(set(self.priors) & set(self.ties)):
            raise ValueError(f"--prior {name}=… would be ignored: {name} is tied (--tie {name}={self.ties[name]}); "
                             "give the prior to the parameters it is tied to")
        for name in sorted(set(self.priors) & set(self.fixed)):
            raise ValueError(f"--prior {name}=… and --fix {name} contradict each other: a fixed parameter has no "
                             "prior; drop one of them")
        for name, expr in self.ties.items():
            expressions.checked(name, expr)          # syntax and safety before any data is read


def save_spec(spec: RunSpec, out: Path, command: str | None, chain: Path):
    """Write ``out/run.json``: ``spec``, the command line that ran it and the chain file's absolute path."""
    doc = {"spec": dataclasses.asdict(spec), "command": command, "chain": str(chain.resolve())}
    rundir.write_text(out / "run.json", json.dumps(doc, indent=2))


def chain_of(run_dir) -> Path:
    """The chain file a run directory's ``run.json`` names."""
    return Path(json.loads((Path(run_dir) / "run.json").read_text())["chain"])


def load_spec(run_dir) -> tuple[RunSpec, str | None]:
    """The :class:`RunSpec` and command line of a run directory; ValueError if it is not one."""
    path = Path(run_dir) / "run.json"
    try:
        doc = json.loads(path.read_text())
        spec = doc["spec"]
        spec = RunSpec(**{**spec, **{k: tuple(spec[k]) for k in ("sources", "free", "fixed", "log") if k in spec}})
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{run_dir} is not a glassfit run directory (run.json: {exc})") from None
    return spec, doc.get("command")


def command_line(spec: RunSpec, out: Path) -> str:
    """The ``glassfit fit`` command line that reproduces ``spec`` into ``out`` (shell-quoted)."""
    words = ["glassfit", "fit", *spec.sources, "--model", spec.model, "--method", spec.method, "--out", str(out)]
    for read in spec.read if isinstance(spec.read, list | tuple) else [spec.read]:
        for key, value in read.items():
            if key == "without_sigma":              # implied by the noise model
                continue
            if key == "columns" or key == "units":
                words += [f"--{key}", ",".join(f"{k}={v}" for k, v in value.items())]
            else:
                words += [f"--{key.replace('_', '-')}", str(value)]
    words += [w for name, value in spec.values.items() for w in ("--set", f"{name}={value}")]
    words += [w for name in spec.free for w in ("--free", name)]
    words += [w for name in spec.fixed for w in ("--fix", name)]
    words += [w for name in spec.log for w in ("--log", name)]
    words += [w for name, expr in spec.ties.items() for w in ("--tie", f"{name}={expr}")]
    words += [w for name, text in spec.priors.items() for w in ("--prior", f"{name}={text}")]
    words += ["--noise", spec.noise, "--seed", str(spec.seed)]
    words += [w for name, noise in spec.noise_of.items() for w in ("--noise-of", f"{name}={noise}")]
    words += [w for name, (lo, hi) in spec.window.items() for w in ("--window", f"{name}={lo:g}:{hi:g}")]
    words += [] if spec.search == "multistart" else ["--search", spec.search]
    words += [] if spec.starts is None else ["--starts", str(spec.starts)]
    words += [] if spec.t_exp is None else ["--t-exp", f"{spec.t_exp:g}"]
    if spec.method == "emcee":
        words += ["--steps", str(spec.steps)] + (["--walkers", str(spec.walkers)] if spec.walkers else [])
        words += [] if spec.until_converged else ["--no-until-converged"]
        words += [] if spec.moves == "stretch" else ["--moves", spec.moves]
    return " ".join(shlex.quote(w) for w in words)


__all__ = ["FAMILY_NAMES", "METHODS", "MOVES", "SEARCHES", "RunSpec", "chain_of", "command_line", "emcee_moves",
           "load_spec", "save_spec"]
