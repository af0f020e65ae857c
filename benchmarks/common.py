"""Shared by the benchmarks: time a slow reference on a subset of temperatures and report against the fast path."""

from __future__ import annotations

import time

import numpy as np


def best_of(call, repeat: int = 5) -> float:
    """The shortest of ``repeat`` timings of one ``call()`` [s] (for calls of milliseconds or more)."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        call()
        times.append(time.perf_counter() - t0)
    return min(times)


def report_against_reference(label, fast, t_fast, reference, T, stride, target_ms, target_speedup):
    """Time ``reference(T_i)`` on every ``stride``-th temperature, scale to all, and print the comparison.

    ``fast`` holds the fast path's values at every T and ``t_fast`` its time per evaluation [s].
    """
    sub = np.arange(0, len(T), stride)
    t0 = time.perf_counter()
    ref = np.array([reference(t) for t in T[sub]])
    t_ref = (time.perf_counter() - t0) * len(T) / len(sub)
    err = np.max(np.abs(fast[sub] / ref - 1))
    print(f"{label}, {len(T)} temperatures: {t_fast * 1e3:8.2f} ms / evaluation   (target ≤ {target_ms:g} ms)")
    print(f"reference, {len(T)} temperatures:   {t_ref:8.1f} s  (timed on {len(sub)}, scaled)")
    print(f"speed-up:                        {t_ref / t_fast:8.0f} ×   (target ≥ {target_speedup:g} ×)")
    print(f"max relative difference:         {err:8.1e}     (target ≤ 1e-3)")
