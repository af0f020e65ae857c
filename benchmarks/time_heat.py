"""KKI time-dependent specific heat benchmark: c(T, t) for a measurement of duration t.

One KKI c(T, t) evaluation on a 10 × 20 (T, t) grid with the iso-energy nodes cached (target ≤ 50 ms),
against a direct reference measured in the same run: for each (T, t), adaptive scipy quadrature over
u of the exponential-window sum over a fresh iso-energy quadrature at that u, with every TLS's exact
one-phonon rate.  The reference runs on 4 grid points and is scaled to 200; they must agree to 1e-3.
Also times the reconstructed closed form (6.3) on the same grid.

Run: python benchmarks/time_heat.py
"""

from __future__ import annotations

import time

import numpy as np
from scipy.integrate import quad

from glassfit import constants
from glassfit.density import U_TILDE_MAX, IsoEnergyQuadrature
from glassfit.distributions import KKIDistribution
from glassfit.observables.scattering import kki_relaxation_rate
from glassfit.observables.timeheat import kki_closed_form, kki_heat_capacity
from glassfit.potential import PotentialScales

K, EV = constants.k_B, constants.eV
SCALES = PotentialScales(22.6 * K, 0.0442, 0.2102, 1.0)
DIST = KKIDistribution(0.8, 1.2, 1e27)
CHI = {"l": (3 * EV, 2 * EV), "t": (1.8 * EV, 1.2 * EV)}
MATERIAL = (1200.0, 3000.0, 1500.0)


def reference(T, t):
    """c(T, t) [J m⁻³ K⁻¹] directly: quad over u, fresh nodes at each u, exponential window."""
    rho, v_l, v_t = MATERIAL

    def integrand(x):
        u = min(x * K * T, U_TILDE_MAX * SCALES.w)           # the production's continuation above 0.8 w
        q = IsoEnergyQuadrature([u / SCALES.w])
        total = 0.0
        for j, nodes in enumerate((q.type1, q.type2)):
            dens = nodes.weight * DIST(SCALES.eta_L * nodes.alpha, SCALES.xi_L * nodes.beta)
            rate = kki_relaxation_rate(u, nodes.x_ge2, T, CHI["l"][j], CHI["t"][j], rho, v_l, v_t)
            total += np.sum(dens * -np.expm1(-t * rate)) * SCALES.eta_L * SCALES.xi_L / SCALES.w
        return total * (x / 2) ** 2 / np.cosh(x / 2) ** 2

    return K**2 * T * quad(integrand, 1e-6, 40, epsrel=1e-7, limit=200)[0]


def main():
    T, t = np.meshgrid(np.geomspace(0.05, 0.5, 10), np.geomspace(1e-6, 1e4, 20), indexing="ij")
    kki_heat_capacity(T, t, SCALES, DIST, CHI, *MATERIAL)                      # nodes once
    reps = 20
    t0 = time.perf_counter()
    for i in range(reps):
        fast = kki_heat_capacity(T, t, SCALES, KKIDistribution(0.8, 1.2 + 1e-9 * i, 1e27), CHI, *MATERIAL)
    t_fast = (time.perf_counter() - t0) / reps
    picks = [(0, 0), (3, 10), (6, 5), (9, 19)]
    t0 = time.perf_counter()
    ref = np.array([reference(T[p], t[p]) for p in picks])
    t_ref = (time.perf_counter() - t0) * T.size / len(picks)
    err = np.max(np.abs(np.array([fast[p] for p in picks]) / ref - 1))
    print(f"KKI c(T, t), 10 × 20 grid:   {t_fast * 1e3:8.2f} ms / evaluation   (target ≤ 50 ms)")
    print(f"direct reference, 200 points: {t_ref:8.1f} s  (timed on {len(picks)}, scaled)")
    print(f"speed-up:                     {t_ref / t_fast:8.0f} ×")
    print(f"max relative difference:      {err:8.1e}     (target ≤ 1e-3)")
    t0 = time.perf_counter()
    for _ in range(reps):
        kki_closed_form(T, t, SCALES, DIST, CHI, *MATERIAL)
    t_closed = (time.perf_counter() - t0) / reps
    print(f"closed form (6.3), same grid: {t_closed * 1e3:8.2f} ms / evaluation   (a reference, 16–20 % high)")


if __name__ == "__main__":
    main()
