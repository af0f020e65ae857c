"""KKI specific-heat benchmark: the TLS density of states n(u) and c_TLS(T).

Prints the time of one KKI c_TLS(T) evaluation at 100 temperatures with the spectrum tables and the
iso-energy nodes cached (target ≤ 2 ms), and compares it with a direct reference measured in the same
run: nested adaptive scipy quadrature over (η, ξ) of f(η, ξ) k (u/2kT)² sech²(u/2kT), with the exact
spectrum u(η, ξ) (from the spectrum tables, themselves within 1e-5 of the sinc-DVR solver).  The
reference is slow, so it runs on every 10th temperature and its time is scaled to 100; the two must
agree to 1e-3 (target speed-up ≥ 100×).

Run: python benchmarks/heat.py
"""

from __future__ import annotations

import time

import numpy as np
from common import report_against_reference
from scipy.integrate import quad

from glassfit import constants
from glassfit.distributions import KKIDistribution
from glassfit.observables.heat import kki_tls_heat_capacity
from glassfit.potential import SoftPotential
from glassfit.tables import A_B_TABLE_MAX, A_B_TABLE_MIN, default_tables


def reference_tls_heat_capacity(T, pot, dist):
    """Nested scipy quadrature over the type-2 and type-1 doublet regions (independent of glassfit.density)."""
    tables = default_tables()
    kT = constants.k_B * T / pot.w                                   # in units of w
    u_max = 45.0 * kT                                                # (x/2)² sech²(x/2) < 1e-16 beyond

    def pair(alpha, beta):
        u = float(tables.two_level(np.array([alpha]), np.array([beta])).u[0])
        x = u / kT
        return (x / 2) ** 2 / np.cosh(x / 2) ** 2 if x < 700 else 0.0

    def f(alpha, beta):
        return float(dist(pot.eta_L * alpha, pot.xi_L * beta))

    def type2(a):                                                    # α = −a, β across the strip
        half = u_max * np.sqrt(2) / (0.65 * a**1.5)
        return quad(lambda b: f(-a, b) * pair(-a, b), -half, half, points=[0.0], epsrel=1e-7, limit=200)[0]

    def type1(b):                                                    # α = β²/4 + t across the strip
        half = u_max / (0.65 * b**2 / 4)
        centre = b**2 / 4
        inner = quad(lambda t: f(centre + t, b) * pair(centre + t, b), -half, half, points=[0.0],
                     epsrel=1e-7, limit=200)[0]
        return 2 * inner                                             # β and −β (g even)

    c2 = quad(type2, A_B_TABLE_MIN, A_B_TABLE_MAX, epsrel=1e-6, limit=200)[0]
    c1 = quad(type1, np.sqrt(8 * A_B_TABLE_MIN), np.sqrt(8 * A_B_TABLE_MAX), epsrel=1e-6, limit=200)[0]
    return constants.k_B * pot.eta_L * pot.xi_L * (c1 + c2)


def main():
    pot = SoftPotential.from_units(A=1.0, B=1.0, C=1.0, mass=24.25)
    dist = KKIDistribution(eta_c=0.8, xi_c=1.2, N=1e27)
    T = np.geomspace(0.02, 0.4, 100)                                 # 45 kT < 0.8 w: the two-level range
    kki_tls_heat_capacity(T, pot, dist)                              # builds/loads tables and nodes once
    reps = 200
    t0 = time.perf_counter()
    for i in range(reps):
        fast = kki_tls_heat_capacity(T, pot, KKIDistribution(0.8, 1.2 + 1e-9 * i, 1e27))
    t_fast = (time.perf_counter() - t0) / reps

    report_against_reference("KKI c_TLS(T)", fast, t_fast, lambda t: reference_tls_heat_capacity(t, pot, dist),
                             T, 10, 2, 100)

if __name__ == "__main__":
    main()
