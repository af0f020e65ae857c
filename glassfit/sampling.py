"""emcee driver: walker start from least squares, HDF5 chain, resume, τ-based stopping, process pools.

:func:`run` samples ``objective.logpost`` with :class:`emcee.EnsembleSampler` into an HDF5 file of emcee's
:class:`emcee.backends.HDFBackend` (group ``"mcmc"``; read back through it), with glassfit's record of the
chain (:class:`ChainMeta`) in group ``"glassfit"``.  Steps are kept in memory and written in blocks of
``check_every`` steps (one file write per block instead of per step: see :class:`_BlockBackend`), so
``run(..., max_steps=M, resume=True)`` after an interrupted or shorter run continues from the last block
to M total steps and gives the same chain, bit for bit, as an uninterrupted ``run(..., max_steps=M)``.

Stopping: every ``check_every`` steps the integrated autocorrelation time τ of each parameter is
estimated on the chain so far (:func:`emcee.autocorr.integrated_time`); the run stops when the number
of steps N ≥ 50 τ_max and every τ changed by less than 1 % since the previous check, or at ``max_steps``.

A log-posterior that is not finite inside the prior support counts as −inf and θ is logged; the number
of such evaluations (over all processes and resumed runs) is kept in the chain file.
"""

from __future__ import annotations

import hashlib
import json
import logging
import multiprocessing
import shutil
import signal
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import ClassVar

import emcee
import numpy as np

from glassfit.optimize import map_fit, prior_half_width

log = logging.getLogger(__name__)

#: N ≥ TAU_FACTOR τ_max and |Δτ|/τ < TAU_RTOL between checks stop a run
TAU_FACTOR, TAU_RTOL = 50.0, 0.01


def initial_walkers(objective, nwalkers: int, theta, cov, rng=None, max_tries: int = 50) -> np.ndarray:
    """``nwalkers`` positions θ + N(0, cov) (plus a 1e-6 relative floor), redrawing any with a log-posterior
    of −inf (outside the prior support or a non-finite model); ValueError if they cannot be placed."""
    rng = np.random.default_rng(rng)
    theta = objective.vector(theta, "theta")
    cov = np.asarray(cov, float)
    if cov.shape != (objective.ndim, objective.ndim) or not np.all(np.isfinite(cov)):
        raise ValueError(f"cov must be a finite ({objective.ndim}, {objective.ndim}) matrix, got shape {cov.shape}")
    widths = np.array([2 * prior_half_width(objective.priors[n]) for n in objective.names])
    floor = (1e-6 * np.where(theta != 0, np.abs(theta), widths)) ** 2
    cov = 0.5 * (cov + cov.T) + np.diag(floor)
    walkers = np.empty((0, objective.ndim))
    for _ in range(max_tries):
        draws = rng.multivariate_normal(theta, cov, size=nwalkers, method="eigh")
        ok = np.array([np.isfinite(objective.logpost(d)) for d in draws])
        walkers = np.vstack([walkers, draws[ok]])[:nwalkers]
        if len(walkers) == nwalkers:
            return walkers
    raise ValueError(f"could only place {len(walkers)} of {nwalkers} walkers inside the prior support around "
                     f"{objective.named(theta)} in {max_tries} tries; check the start and the priors")


# ---------------------------------------------------------------- pooled log-probability
_WORKER = {}


def _init_worker(objective, counter):
    """Pool initializer: each worker receives the objective (and the shared non-finite counter) once, and
    leaves Ctrl-C to the parent, which stops the pool (no worker tracebacks, no orphans)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _WORKER.update(objective=objective, counter=counter)


def _pooled_log_prob(theta):
    """One walker's log-posterior, in a worker."""
    return _counted(lambda objective: objective.logpost(theta))


def _pooled_log_prob_batch(thetas):
    """A slice of the walkers' log-posteriors, one batched evaluation in a worker."""
    return _counted(lambda objective: objective.logpost_batch(thetas))


def _counted(evaluate):
    objective = _WORKER["objective"]
    before = objective.n_nonfinite
    lp = evaluate(objective)
    if objective.n_nonfinite > before:
        with _WORKER["counter"].get_lock():
            _WORKER["counter"].value += objective.n_nonfinite - before
    return lp


class BatchLogProb:
    """The log-posterior of a batch of walkers (emcee's ``vectorize=True``): one :meth:`logpost_batch` of the whole
    batch, or with a pool one slice of the batch per worker: ``processes`` slices in glassfit's own process pool
    (whose workers hold the objective), or ``slices`` slices in an outside executor (``pool``, anything with
    ``map``: the objective travels with each slice, and the non-finite evaluations it counts come back with it)."""

    def __init__(self, objective, pool=None, processes: int = 1, outside: bool = False):
        self.objective, self.pool, self.processes, self.outside = objective, pool, processes, outside
        self.n_nonfinite = 0

    def __call__(self, thetas) -> np.ndarray:
        if self.pool is None:
            return self.objective.logpost_batch(thetas)
        slices = [part for part in np.array_split(thetas, self.processes) if len(part)]
        if not self.outside:
            return np.concatenate(self.pool.map(_pooled_log_prob_batch, slices))
        results = list(self.pool.map(_SliceLogProb(self.objective), slices))
        self.n_nonfinite += sum(n for _, n in results)
        return np.concatenate([lp for lp, _ in results])


class _SliceLogProb:
    """A slice's log-posteriors and the number of non-finite ones, evaluated wherever an outside pool runs it."""

    def __init__(self, objective):
        self.objective = objective

    def __call__(self, thetas):
        before = self.objective.n_nonfinite
        lp = self.objective.logpost_batch(thetas)
        return lp, self.objective.n_nonfinite - before


@contextmanager
def _interrupt_between_steps():
    """Within: a Ctrl-C (SIGINT) is taken after the step in flight, so that it never lands inside emcee's
    likelihood wrapper (which would print a traceback); the yielded dict's "hit" says one came.  A second Ctrl-C
    interrupts at once.  Only in the main thread, where signal handlers live."""
    state = {"hit": False}
    if threading.current_thread() is not threading.main_thread():
        yield state
        return
    previous = signal.getsignal(signal.SIGINT)
    previous = signal.default_int_handler if previous is None else previous     # one not installed from Python

    def defer(signum, frame):
        state["hit"] = True
        signal.signal(signal.SIGINT, previous)

    signal.signal(signal.SIGINT, defer)
    try:
        yield state
    finally:
        signal.signal(signal.SIGINT, previous)


# ---------------------------------------------------------------- chain file
#: free disk space [bytes] a chain file must keep beyond each block of steps it writes
DISK_MARGIN = 16 * 2**20


class DiskFullError(ValueError):
    """The disk cannot take the next block of steps; the chain file is left as it was (resumable)."""


class _BlockBackend(emcee.backends.HDFBackend):
    """emcee's HDF5 backend (group "mcmc") writing the steps a block at a time.

    emcee's interface writes one step per :meth:`save_step` (a dozen h5py calls, ≈ 1 ms a step even in one
    open file: sampling the cheap test posteriors 3–5 × slower) and has no call that writes several.  So
    :meth:`save_step` keeps a copy of the step, and :meth:`flush` writes the kept block as that many of emcee's
    ``save_step`` calls would: rows [i, i + n) of "chain" and "log_prob", the acceptance flags added to
    "accepted", the last step's random state, and the step count "iteration" last (a flush cut short by an
    exception is redone whole by the next).  emcee's checks of a step are kept, made once per block on the
    stacked steps against :attr:`shape` instead of reading the file at every step: coordinates
    (nwalkers, ndim), log-probabilities and acceptance flags (nwalkers,); a step with blobs is refused (the
    chain has none: glassfit's log-posteriors return a number).  :meth:`reset`, :meth:`grow` and every read
    are emcee's own."""

    def __init__(self, filename):
        super().__init__(filename)
        self._steps = []            # (coords, log_prob, accepted, random_state) of the steps not yet in the file

    def save_step(self, state, accepted):
        """Keep a copy of the step (emcee reuses its arrays) until the next :meth:`flush`."""
        if state.blobs is not None:
            raise ValueError("unexpected blobs: glassfit's chain files store none")
        self._steps.append((np.copy(state.coords), np.copy(state.log_prob), np.copy(accepted), state.random_state))

    def flush(self):
        """Write the kept steps; the file then holds a resumable chain.  :class:`DiskFullError` (nothing
        written) if the disk cannot hold them with a margin of :data:`DISK_MARGIN` bytes."""
        if not self._steps:
            return
        coords, log_prob, accepted = (np.stack([step[k] for step in self._steps]) for k in range(3))
        n, (nwalkers, ndim) = len(coords), self.shape
        if not (coords.shape == (n, nwalkers, ndim) and log_prob.shape == accepted.shape == (n, nwalkers)):
            raise ValueError(f"steps of {coords.shape[1:]} coordinates, {log_prob.shape[1:]} log-probabilities and "
                             f"{accepted.shape[1:]} acceptance flags do not fit {nwalkers} walkers × {ndim} parameters")
        needed = 2 * (coords.nbytes + log_prob.nbytes) + DISK_MARGIN
        free = shutil.disk_usage(Path(self.filename).resolve().parent).free
        if free < needed:
            raise DiskFullError(f"{self.filename}: only {free / 1e6:.1f} MB free on its disk, less than the "
                                f"{needed / 1e6:.1f} MB the next {n} steps need; the chain keeps its "
                                f"{self.iteration} complete steps: free some space and continue with --resume")
        with self.open("a") as f:
            g = f[self.name]
            i = int(g.attrs["iteration"])
            g["chain"][i:i + n] = coords
            g["log_prob"][i:i + n] = log_prob
            g["accepted"][:] += accepted.sum(axis=0)
            for k, v in enumerate(self._steps[-1][3]):
                g.attrs[f"random_state_{k}"] = v
            g.attrs["iteration"] = i + n
        self._steps.clear()


def fingerprint(objective) -> str:
    """SHA-256 of everything that defines the posterior a chain samples: the free parameter names, the
    datasets' hashes, each part's model, noise model, fixed values and expressions, and the priors."""
    parts = [{"model": part.model.name, "noise": part.noise, "fixed": part.fixed,
              "expr": {n: p.expr for n, p in part.params.items() if p.expr}}
             for part in objective.parts]
    text = json.dumps({"names": objective.names, "data": [d.sha256 for d in objective.datasets], "parts": parts,
                       "priors": objective.prior_descriptions()}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class ChainMeta:
    """glassfit's record in a chain file: what the chain samples and how it was started (attributes of the
    group :attr:`GROUP` beside emcee's group "mcmc", read and written through the emcee backend's file access)."""

    GROUP: ClassVar[str] = "glassfit"

    names: list[str]                # free parameters, in the order of the chain's last axis
    fingerprint: str                # :func:`fingerprint` of the posterior sampled
    nwalkers: int
    seed: int | None                # seed of the run that started the chain (None: unseeded)
    n_nonfinite: int = 0            # log-posteriors not finite inside the prior support, whole chain
    converged: bool = False         # :func:`is_converged` at the sampler's last check

    @classmethod
    def read(cls, backend: emcee.backends.HDFBackend) -> ChainMeta:
        """The record in ``backend``'s file; ValueError (one line) if it is not a glassfit chain file."""
        try:
            with backend.open() as f:
                attrs = f[cls.GROUP].attrs
                seed = int(attrs["seed"])
                return cls(json.loads(attrs["names"]), str(attrs["fingerprint"]), int(attrs["nwalkers"]),
                           None if seed < 0 else seed, int(attrs["n_nonfinite"]), bool(attrs.get("converged", False)))
        except (OSError, KeyError):
            raise ValueError(f"{backend.filename} is not a glassfit chain file (unreadable HDF5 or no "
                             f"{cls.GROUP!r} group)") from None

    def write(self, backend: emcee.backends.HDFBackend):
        """Store the record in ``backend``'s file (replacing the one there)."""
        with backend.open("a") as f:
            f.require_group(self.GROUP).attrs.update({
                "names": json.dumps(self.names), "fingerprint": self.fingerprint, "nwalkers": self.nwalkers,
                "seed": -1 if self.seed is None else self.seed, "n_nonfinite": self.n_nonfinite,
                "converged": self.converged})


@dataclass(frozen=True)
class RunInfo:
    """What :func:`run` did: the chain file, its length, why it stopped and the diagnostics at the end."""

    path: Path
    nsteps: int
    nwalkers: int
    converged: bool
    tau: np.ndarray | None          # integrated autocorrelation time per parameter [steps] at the last check
    acceptance: float               # mean acceptance fraction over walkers
    n_nonfinite: int                # log-posterior evaluations not finite inside the prior support (whole chain)
    elapsed: float                  # wall time of this call [s]

    @property
    def n_over_tau(self) -> float | None:
        """N / τ_max (≥ 50 for a converged chain)."""
        return None if self.tau is None else self.nsteps / float(np.max(self.tau))


def autocorr_time(chain) -> np.ndarray | None:
    """τ of each parameter from a (steps, walkers, ndim) chain (emcee, tol=0); None if it cannot be estimated."""
    from emcee.autocorr import integrated_time

    try:
        with np.errstate(all="ignore"):
            tau = integrated_time(np.asarray(chain), tol=0)
    except Exception as exc:  # a failed diagnostic must never block results
        log.warning("autocorrelation time not available: %s", exc)
        return None
    return tau if np.all(np.isfinite(tau)) else None


def default_walkers(ndim: int) -> int:
    """Walkers of a run when none are given: max(16, 4 ndim)."""
    return max(16, 4 * ndim)


def is_converged(nsteps, tau, previous) -> bool:
    """glassfit's one definition of a converged chain: N ≥ 50 τ_max and every τ within 1 % of its value at
    the previous check (``previous``, ``check_every`` steps earlier)."""
    if tau is None or previous is None:
        return False
    return bool(nsteps >= TAU_FACTOR * np.max(tau) and np.all(np.abs(tau - previous) < TAU_RTOL * tau))


def run(objective, path, *, max_steps: int, nwalkers: int | None = None, seed: int | None = 0,
        resume: bool = False, start=None, processes: int = 1, pool=None, slices: int = 2, check_every: int = 100,
        converge: bool = True, progress: bool = False, moves=None, batched: bool = True) -> RunInfo:
    """Sample the posterior of ``objective`` into the HDF5 file ``path``.

    Parameters
    ----------
    objective : Objective or JointObjective
    path : str or Path
        Chain file; must not exist unless ``resume``.
    max_steps : int
        Total number of steps of the chain (resume continues up to this total).
    nwalkers : int, optional
        Even, ≥ 2 ndim (default max(16, 4 ndim); on resume, the file's).
    seed : int or None
        Seeds the walker start and emcee's generator (ignored on resume: the saved state is used).
    resume : bool
        Continue the chain in ``path`` (same objective, checked by its fingerprint).
    start : array (nwalkers, ndim), optional
        Initial walkers; default :func:`glassfit.optimize.map_fit` (global search) + :func:`initial_walkers`.
    processes : int
        > 1 evaluates walkers in a process pool that holds the objective once per worker.
    pool : executor, optional
        Evaluates walkers in an outside pool instead: anything with ``map``, e.g.
        ``concurrent.futures.ProcessPoolExecutor`` or ``dask.distributed.Client.get_executor()`` (the workers of a
        cluster); each half-ensemble is split into ``slices`` slices, mapped with the objective.  The chain is the
        serial one.  Not with ``processes`` > 1, and only ``batched``.
    check_every : int
        Steps between autocorrelation checks.
    converge : bool
        Stop at convergence (N ≥ 50 τ_max, τ stable to 1 %); False runs to ``max_steps``.
    progress : bool
        tqdm progress bar.
    moves : emcee move or list of (move, weight), optional
        Proposal (default emcee's stretch move); e.g. ``[(emcee.moves.DEMove(), 0.8),
        (emcee.moves.DESnookerMove(), 0.2)]`` for strongly correlated posteriors.
    batched : bool
        Evaluate the walkers that emcee moves together (half the ensemble) in one batched log-posterior
        (:meth:`~glassfit.objective.Objective.logpost_batch`; emcee's ``vectorize=True``), split into one slice per
        process with a pool (:class:`BatchLogProb`); False evaluates them one at a time.  Same chain either way, to
        the rounding of the log-posterior.
    """
    path = Path(path)
    for name, value, low in (("max_steps", max_steps, 1), ("check_every", check_every, 1), ("processes", processes, 1),
                             ("slices", slices, 1)):
        if not isinstance(value, int | np.integer) or value < low:
            raise ValueError(f"{name} must be an integer ≥ {low}, got {value!r}")
    if pool is not None and (processes > 1 or not batched):
        raise ValueError("an outside pool evaluates batches of walkers: give it with processes=1 and batched=True")
    if pool is not None and not callable(getattr(pool, "map", None)):
        raise ValueError(f"pool must have a map method (an executor), got {type(pool).__name__}")
    ndim = objective.ndim
    backend = _BlockBackend(str(path))
    if resume:
        if not path.exists():
            raise ValueError(f"cannot resume: {path} does not exist")
        meta = ChainMeta.read(backend)
        if meta.fingerprint != fingerprint(objective):
            raise ValueError(f"{path} holds a chain of another posterior (parameters {meta.names}, "
                             f"or other data) than this objective ({objective.names})")
        if nwalkers is not None and nwalkers != meta.nwalkers:
            raise ValueError(f"{path} has {meta.nwalkers} walkers, not {nwalkers}; omit nwalkers to resume")
        nwalkers = meta.nwalkers
        try:
            done = backend.iteration
        except (OSError, KeyError):
            raise ValueError(f"{path} has no readable emcee chain") from None
        if backend.shape != (nwalkers, ndim):
            raise ValueError(f"{path} holds {backend.shape} walkers × parameters, the objective needs {ndim}")
        state = backend.get_last_sample() if done else _start(objective, nwalkers, seed, start)
    else:
        if path.exists():
            raise ValueError(f"{path} already exists; pass resume=True to continue it or choose a new path")
        nwalkers = default_walkers(ndim) if nwalkers is None else nwalkers
        if not isinstance(nwalkers, int | np.integer) or nwalkers < 2 * ndim or nwalkers % 2:
            raise ValueError(f"nwalkers must be an even integer ≥ 2·ndim = {2 * ndim}, got {nwalkers!r}")
        state = _start(objective, nwalkers, seed, start)
        backend.reset(nwalkers, ndim)
        meta = ChainMeta(list(objective.names), fingerprint(objective), int(nwalkers),
                         None if seed is None else int(seed))
        meta.write(backend)
        done = 0
    t0 = time.perf_counter()
    outside, counter, serial_before = pool, multiprocessing.Value("l", 0), objective.n_nonfinite
    pool = None
    disk_full = interrupted = False
    if processes > 1:
        pool = multiprocessing.get_context().Pool(processes, initializer=_init_worker, initargs=(objective, counter))
    log_prob = (BatchLogProb(objective, outside, slices, outside=True) if outside is not None else
                BatchLogProb(objective, pool, processes))
    try:
        if batched:
            sampler = emcee.EnsembleSampler(nwalkers, ndim, log_prob, backend=backend, moves=moves, vectorize=True)
        else:
            sampler = emcee.EnsembleSampler(nwalkers, ndim, _pooled_log_prob if pool else objective.logpost,
                                            pool=pool, backend=backend, moves=moves)
        tau, previous = None, None
        converged = meta.converged if max_steps <= done else False
        if done >= check_every:        # the τ of the previous check, so that a resumed run stops where a long one would
            previous = autocorr_time(backend.get_chain()[: done - done % check_every])
        steps = sampler.sample(state, iterations=max_steps - done, progress=progress) if max_steps > done else ()
        with _interrupt_between_steps() as interrupt:
            for n, _ in enumerate(steps, start=done + 1):
                if interrupt["hit"]:
                    raise KeyboardInterrupt
                if n % check_every == 0:
                    backend.flush()
                    tau = autocorr_time(backend.get_chain())
                    converged = is_converged(n, tau, previous)
                    previous = tau
                    if converge and converged:
                        break
            if interrupt["hit"]:                   # during the last step: the run still stops as interrupted
                raise KeyboardInterrupt
    except DiskFullError:
        disk_full = True
        raise
    except KeyboardInterrupt:
        interrupted = True
        raise
    finally:
        if pool is not None:
            if interrupted:
                pool.terminate()           # a step in flight (a second Ctrl-C) is dropped; every finished one is kept
            else:
                pool.close()
            pool.join()
        if not disk_full:                  # the steps held in memory are written on every other exit
            backend.flush()
    n = backend.iteration
    if tau is None and n > 0:
        tau = autocorr_time(backend.get_chain())
    meta = replace(meta, n_nonfinite=meta.n_nonfinite + counter.value + log_prob.n_nonfinite
                   + objective.n_nonfinite - serial_before,
                   converged=converged)
    meta.write(backend)
    return RunInfo(path=path, nsteps=int(n), nwalkers=nwalkers, converged=converged, tau=tau,
                   acceptance=float(np.mean(backend.accepted / max(n, 1))), n_nonfinite=meta.n_nonfinite,
                   elapsed=time.perf_counter() - t0)


def _start(objective, nwalkers, seed, start):
    """emcee State of the first step: given walkers or least squares + jitter; emcee's generator seeded."""
    from emcee import State

    if start is None:
        found = map_fit(objective, seed=seed)
        theta, cov = found.theta, found.cov
        start = initial_walkers(objective, nwalkers, theta, cov, rng=seed)
    start = np.asarray(start, dtype=float)
    if start.shape != (nwalkers, objective.ndim) or not np.all(np.isfinite(start)):
        raise ValueError(f"start must be a finite ({nwalkers}, {objective.ndim}) array, got shape {start.shape}")
    return State(start, random_state=np.random.RandomState(seed).get_state())


__all__ = ["BatchLogProb", "ChainMeta", "DiskFullError", "RunInfo", "autocorr_time", "default_walkers", "fingerprint",
           "initial_walkers", "is_converged", "run"]
