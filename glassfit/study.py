"""Many independent fits at scale: a declared study run as dask.distributed tasks, its results task by task in one file.

A study is a TOML file (``glassfit study SPEC.toml``, or :func:`run` with the same arguments)::

    [study]
    kind = "sbc"            # what every replicate does: "sbc", simulation-based calibration (glassfit.sbc), or
                            # "discrimination", KKI against the STM in the time domain (glassfit.time_laws)
    seed = 2026             # the study seed
    replicates = 200        # replicates of every cell
    per_task = 4            # replicates one task runs (default 1); changes neither seeds nor results
    results = "sbc.h5"      # the results file, relative to SPEC.toml (default: SPEC's stem + .h5)

    [sbc]                   # the kind's own section: its cells (designs × models) and settings
    ...

Replicate r of cell c draws every random number from ``SeedSequence(seed, spawn_key=(c, r))``, so a study's
table depends neither on the number of workers, nor on the order tasks finish in, nor on ``per_task``.  Tasks
are submitted with explicit keys and ``pure=False`` to a ``LocalCluster`` of this machine's cores (default), to
an existing scheduler (``scheduler="tcp://host:8786"``), or to a given ``distributed.Client`` (e.g. of a
dask-jobqueue SLURM or PBS cluster, README); ``workers=0`` runs them in this process.  Every process of a study
computes with one BLAS thread (dask's workers are started so, the serial path is limited to one), so the serial
and the distributed tables agree bit for bit.

The results file (HDF5) holds one group per cell with one resizable column per result; a finished task's
rows are appended column by column, its replicate numbers last, then the file is flushed.  So the file is always
consistent: opening it again drops any rows written after the last complete task, and a run of the same spec
resumes with the missing replicates only (raising ``replicates`` extends a study).  A worker that dies in a
task (killed, out of memory) is replaced by its nanny and the task reruns elsewhere with the same seed; Ctrl-C
cancels the tasks in flight and leaves every finished one in the file.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import logging
import os
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np
import pandas as pd

#: study kinds (simulation-based calibration; KKI against the STM in the time domain): name → module with
#: ``parse(section, where)``, ``run_replicate(plan, cell, seed)`` and ``summarize(plan, tables)`` → (table, figure)
KINDS = {"sbc": "glassfit.sbc", "discrimination": "glassfit.time_laws"}
#: the column every cell's group gets from the engine itself: wall time of each replicate [s]
SECONDS = "seconds"
_STUDY_KEYS = {"kind", "seed", "replicates", "per_task", "results"}


@dataclass(frozen=True)
class Study:
    """A parsed study specification: the kind, its plan (picklable; ``plan.cells`` labels the cells), the seed,
    replicates per cell, replicates per task, the results file, the file's text and the kind's section as read."""

    kind: str
    plan: object
    seed: int
    replicates: int
    per_task: int
    results: Path
    text: str
    section: dict

    @property
    def fingerprint(self) -> str:
        """SHA-256 of what defines each replicate's result: the kind, its section of the file as read, the cells
        and the seed (not the number of replicates, the tasks' size or the results path: a study may be extended
        or regrouped)."""
        spec = json.dumps([self.kind, self.section, list(self.plan.cells), self.seed], sort_keys=True)
        return hashlib.sha256(spec.encode()).hexdigest()


def _kind(name: str):
    if name not in KINDS:
        raise ValueError(f"unknown study kind {name!r}; the kinds are {sorted(KINDS)}")
    return importlib.import_module(KINDS[name])


def _positive_int(value, name: str, low: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"[study] {name} must be an integer ≥ {low}, got {value!r}")
    return value


def load(path) -> Study:
    """The study in the TOML file ``path`` (module docstring); ValueError naming the problem if it is malformed."""
    path = Path(path)
    try:
        text = path.read_text()
        spec = tomllib.loads(text)
    except FileNotFoundError:
        raise ValueError(f"no study file {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path} is not valid TOML: {exc}") from None
    head = spec.get("study")
    if not isinstance(head, dict):
        raise ValueError(f"{path} has no [study] table (kind, seed, replicates)")
    unknown = sorted(set(head) - _STUDY_KEYS)
    if unknown:
        raise ValueError(f"[study] has unknown keys {unknown}; known: {sorted(_STUDY_KEYS)}")
    for key in ("kind", "seed", "replicates"):
        if key not in head:
            raise ValueError(f"[study] needs {key!r}")
    kind = _kind(head["kind"])
    extra = sorted(set(spec) - {"study", head["kind"]})
    if extra:
        raise ValueError(f"{path} has tables {extra} that a {head['kind']!r} study does not read")
    seed, replicates = _positive_int(head["seed"], "seed", 0), _positive_int(head["replicates"], "replicates")
    per_task = _positive_int(head.get("per_task", 1), "per_task")
    plan = kind.parse(spec.get(head["kind"], {}), path.parent)
    results = Path(head.get("results", path.with_suffix(".h5").name))
    return Study(kind=head["kind"], plan=plan, seed=seed, replicates=replicates, per_task=per_task,
                 results=results if results.is_absolute() else path.parent / results, text=text,
                 section=spec.get(head["kind"], {}))


def replicate_seed(study_seed: int, cell: int, replicate: int) -> np.random.SeedSequence:
    """The seed of replicate ``replicate`` of cell ``cell``: independent of workers, order and task size."""
    return np.random.SeedSequence(study_seed, spawn_key=(cell, replicate))


@dataclass(frozen=True)
class Task:
    """Replicates ``replicates`` of cell ``cell``: one dask task."""

    cell: int
    replicates: tuple[int, ...]

    def key(self, fingerprint: str) -> str:
        return f"glassfit-study-{fingerprint[:12]}-c{self.cell}-r{self.replicates[0]}-{self.replicates[-1]}"


def run_task(kind: str, plan, seed: int, task: Task) -> list[dict]:
    """Run a task's replicates (in a worker or in this process): one dict of scalar results per replicate,
    with its wall time under :data:`SECONDS`."""
    module, rows = _kind(kind), []
    for r in task.replicates:
        t0 = time.perf_counter()
        row = module.run_replicate(plan, task.cell, replicate_seed(seed, task.cell, r))
        rows.append({**row, SECONDS: time.perf_counter() - t0})
    return rows


# ---------------------------------------------------------------- the results file
class ResultsFile:
    """The study's HDF5 results: group ``cell<c>`` (attribute ``label``) with one float column per result and
    the int column ``replicate`` written last (module docstring).  Open it with ``with``."""

    def __init__(self, study: Study):
        self.study, self.path = study, study.results
        self.file = None

    def __enter__(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.file = h5py.File(self.path, "a")
        attrs = self.file.attrs
        if "fingerprint" not in attrs:
            attrs.update(fingerprint=self.study.fingerprint, kind=self.study.kind, spec=self.study.text)
        elif attrs["fingerprint"] != self.study.fingerprint:
            self.file.close()
            raise ValueError(f"{self.path} holds the results of another study (other kind, settings or seed); "
                             "give this one its own results file")
        for group in self.file.values():       # rows written after the last complete task are dropped
            n = group["replicate"].shape[0] if "replicate" in group else 0
            for column in group.values():
                column.resize(n, axis=0)
        return self

    def __exit__(self, *exc):
        self.file.close()

    def done(self, cell: int) -> set[int]:
        group = self.file.get(f"cell{cell}")
        return set() if group is None else {int(r) for r in group["replicate"][:]}

    def append(self, task: Task, rows: list[dict]):
        """Write a finished task's rows, the replicate numbers last, and flush."""
        group = self.file.require_group(f"cell{task.cell}")
        group.attrs["label"] = self.study.plan.cells[task.cell]
        columns = {name: np.array([row[name] for row in rows], dtype=float) for name in rows[0]}
        columns["replicate"] = np.array(task.replicates, dtype=np.int64)
        if "replicate" in group and set(group) != set(columns):
            raise ValueError(f"{self.path}: task results {sorted(columns)} do not match the columns {sorted(group)}")
        for name, values in columns.items():
            if name not in group:
                group.create_dataset(name, shape=(0,), maxshape=(None,), dtype=values.dtype, chunks=(256,))
        start = group["replicate"].shape[0]
        for name, values in columns.items():       # "replicate" last: the rows count once it is written
            group[name].resize(start + len(values), axis=0)
            group[name][start:] = values
        self.file.flush()


def read_results(path) -> dict[str, pd.DataFrame]:
    """The results file ``path``: cell label → table, one row per finished replicate, sorted by replicate."""
    out = {}
    with h5py.File(path, "r") as f:
        for name in sorted(f, key=lambda g: int(g[4:])):
            group = f[name]
            if "replicate" not in group:
                continue
            n = group["replicate"].shape[0]
            table = pd.DataFrame({column: group[column][:n] for column in group})
            out[group.attrs["label"]] = table.sort_values("replicate", ignore_index=True)
    return out


# ---------------------------------------------------------------- running
def pending_tasks(study: Study, store: ResultsFile) -> list[Task]:
    """The tasks of the replicates not yet in the results file, ``per_task`` replicates each, cell by cell."""
    tasks = []
    for c in range(len(study.plan.cells)):
        missing = sorted(set(range(study.replicates)) - store.done(c))
        tasks += [Task(c, tuple(missing[i:i + study.per_task])) for i in range(0, len(missing), study.per_task)]
    return tasks


@dataclass(frozen=True)
class StudyRun:
    """What :func:`run` did: tasks run now, tasks already done before, tasks left, wall time [s], workers."""

    study: Study
    ran: int
    skipped: int
    left: int
    elapsed: float
    workers: int

    @property
    def complete(self) -> bool:
        return self.left == 0


def _serial(study: Study, tasks, store, bar):
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):                 # as dask's workers: one BLAS thread, the same rounding
        for task in tasks:
            store.append(task, run_task(study.kind, study.plan, study.seed, task))
            bar.update(len(task.replicates))


def _client(scheduler, workers):
    """(client, cluster to close or None): the given Client, a Client of a scheduler address, or a LocalCluster."""
    from distributed import Client, LocalCluster

    if isinstance(scheduler, Client):
        return scheduler, None
    if scheduler is not None:
        return Client(scheduler), None
    cluster = LocalCluster(n_workers=workers or os.cpu_count(), threads_per_worker=1, processes=True,
                           dashboard_address=":0", silence_logs=logging.ERROR)   # no warnings of cancelled tasks
    return Client(cluster), cluster


def _distributed(study: Study, tasks, store, bar, scheduler, workers) -> int:
    from distributed import as_completed

    client, cluster = _client(scheduler, workers)
    futures = {}
    try:
        n_workers = len(client.scheduler_info()["workers"])
        for task in tasks:
            future = client.submit(run_task, study.kind, study.plan, study.seed, task,
                                   key=task.key(study.fingerprint), pure=False)
            futures[future] = task
        for future in as_completed(futures):
            task = futures.pop(future)
            store.append(task, future.result())
            bar.update(len(task.replicates))
    finally:
        if futures:
            client.cancel(list(futures))
        if cluster is not None:
            client.close()
            cluster.close()
    return n_workers


def run(spec, *, workers: int | None = None, scheduler=None, max_tasks: int | None = None,
        progress: bool = True) -> StudyRun:
    """Run the study ``spec`` (a :class:`Study` or the path of its TOML file) and return what was done.

    workers : int, optional
        LocalCluster workers (default: this machine's cores); 0 runs the tasks in this process.
    scheduler : str or distributed.Client, optional
        An existing cluster instead: its scheduler's address, or a Client (e.g. of a dask-jobqueue cluster).
    max_tasks : int, optional
        Run at most this many of the pending tasks, then stop (a later call runs the rest).
    progress : bool
        A tqdm bar of finished replicates.
    """
    from tqdm.auto import tqdm

    study = spec if isinstance(spec, Study) else load(spec)
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 0):
        raise ValueError(f"workers must be an integer ≥ 0, got {workers!r}")
    if workers == 0 and scheduler is not None:
        raise ValueError("workers=0 runs in this process: give no scheduler with it")
    if max_tasks is not None:
        _positive_int(max_tasks, "max_tasks")
    t0 = time.perf_counter()
    with ResultsFile(study) as store:
        tasks = pending_tasks(study, store)
        total = sum(len(t.replicates) for t in tasks)
        skipped = len(study.plan.cells) * study.replicates - total
        now = tasks if max_tasks is None else tasks[:max_tasks]
        with tqdm(total=sum(len(t.replicates) for t in now), disable=not progress, unit="replicate",
                  desc=f"study {study.results.name}") as bar:
            if not now:
                n_workers = 0
            elif workers == 0:
                n_workers = 1
                _serial(study, now, store, bar)
            else:
                n_workers = _distributed(study, now, store, bar, scheduler, workers)
        left = len(pending_tasks(study, store))
    return StudyRun(study, len(now), skipped, left, time.perf_counter() - t0, n_workers)


def summarize(spec) -> tuple[pd.DataFrame, list[Path]]:
    """The kind's summary of a study's results file: its table, and the files written beside the results file
    (``<stem>-summary.csv`` and the figure ``<stem>.png``)."""
    study = spec if isinstance(spec, Study) else load(spec)
    import matplotlib.pyplot as plt

    tables = read_results(study.results) if study.results.exists() else {}
    if not tables:
        raise ValueError(f"{study.results} holds no finished replicate yet: run the study first")
    table, fig = _kind(study.kind).summarize(study.plan, tables)
    stem = study.results.with_suffix("")
    paths = [Path(f"{stem}-summary.csv"), Path(f"{stem}.png")]
    table.to_csv(paths[0], index=False, float_format="%.4g")
    fig.savefig(paths[1], dpi=150)
    plt.close(fig)
    return table, paths


__all__ = ["KINDS", "SECONDS", "ResultsFile", "Study", "StudyRun", "Task", "load", "pending_tasks", "read_results",
           "replicate_seed", "run", "run_task", "summarize"]
