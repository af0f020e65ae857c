"""Spectrum engine benchmark: the exact sinc-DVR solver and the interpolated spectrum tables.

Prints
  * the time to build every spectrum table from scratch (target ≤ 60 s on 2 cores),
  * the time per interpolated (u, J, Δ, x_ge) evaluation on 10⁵ points,
  * the time per direct sinc-DVR two-level solve of the same kind of points, measured in the same run
    on a subset, and the speed-up (target ≥ 1000×), with the largest interpolation error on that subset.

Run: python benchmarks/spectrum.py
"""

from __future__ import annotations

import os
import tempfile
import time

import numpy as np
from common import best_of

from glassfit.tables import A_B_TABLE_MIN  # a constant: the tables themselves are loaded in main()


def doublet_points(rng, n):
    """Random tunnelling doublets, half of them written as type-1 wells, with u/w spanning 1e-8 … 0.5."""
    a = rng.uniform(A_B_TABLE_MIN, 13.6, n)
    delta = 10 ** rng.uniform(-9, np.log10(0.55), n) * rng.choice([-1, 1], n)
    b = delta * np.sqrt(2.0) / a**1.5
    z = (-3 * b - np.sqrt(9 * b**2 + 32 * a)) / 8
    type1 = rng.random(n) < 0.5
    return np.where(type1, -a + 3 * b * z + 6 * z**2, -a), np.where(type1, b + 4 * z, b)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["GLASSFIT_CACHE_DIR"] = tmp
        from glassfit.spectrum import two_level
        from glassfit.tables import load_or_build

        t0 = time.perf_counter()
        tables = load_or_build()
        build = time.perf_counter() - t0
        t0 = time.perf_counter()
        load_or_build()
        load = time.perf_counter() - t0

    rng = np.random.default_rng(1)
    alpha, beta = doublet_points(rng, 100_000)
    t_interp = best_of(lambda: tables.two_level(alpha, beta), 5) / alpha.size

    n_direct = 2000
    sub = slice(0, n_direct)
    t_direct = best_of(lambda: two_level(alpha[sub], beta[sub]), 1) / n_direct
    exact, interp = two_level(alpha[sub], beta[sub]), tables.two_level(alpha[sub], beta[sub])
    in_domain = (exact.u >= 1e-8) & (exact.u <= 0.5)
    resolved = in_domain & (exact.J >= 1e-9)
    err_u = np.max(np.abs(interp.u[in_domain] / exact.u[in_domain] - 1))
    err_j = np.max(np.abs(interp.J[resolved] / exact.J[resolved] - 1))

    print(f"table build (from scratch):          {build:8.1f} s   (target ≤ 60 s)")
    print(f"table load (from the disk cache):    {load * 1e3:8.1f} ms")
    print(f"interpolated two-level, 1e5 points:  {t_interp * 1e9:8.0f} ns / point")
    print(f"direct DVR two-level ({n_direct} points): {t_direct * 1e6:8.0f} µs / point")
    print(f"speed-up:                            {t_direct / t_interp:8.0f} ×  (target ≥ 1000 ×)")
    print(f"max rel. error on the subset: u {err_u:.1e} ({in_domain.sum()} pts with 1e-8 ≤ u/w ≤ 0.5), "
          f"J {err_j:.1e} ({resolved.sum()} pts with J ≥ 1e-9 w)")


if __name__ == "__main__":
    main()
