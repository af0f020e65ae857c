"""``glassfit spectrum``: build (or load) the spectrum tables and print a summary of the engine."""

from __future__ import annotations

import time

import numpy as np


def spectrum_summary() -> str:
    """A printable summary: table cache, exact vs approximate tunnelling amplitudes, a worked material,
    and its KKI two-level density of states and specific heat."""
    from glassfit import constants
    from glassfit.cache import cache_dir
    from glassfit.density import tls_density
    from glassfit.distributions import KKIDistribution
    from glassfit.observables.heat import debye_heat_capacity, kki_tls_heat_capacity
    from glassfit.potential import SoftPotential, instanton_amplitude, landau_lifshitz_amplitude
    from glassfit.tables import default_tables

    t0 = time.perf_counter()
    tables = default_tables()
    lines = [f"spectrum tables ready in {time.perf_counter() - t0:.1f} s (cache: {cache_dir()})", ""]

    a_b = np.array([4.0, 6.0, 8.0, 10.0, 12.0, 16.0, 20.0])
    j = tables.symmetric_amplitude(a_b)
    r = tables.asymmetry_ratio(a_b)
    lines.append("symmetric double well, energies in units of w (physics.md §1.3):")
    lines.append(f"{'A_b':>5} {'J_exact/w':>12} {'J_inst/J':>9} {'J_LL/J':>8} {'r(A_b)':>8}")
    for row in zip(a_b, j, instanton_amplitude(a_b) / j, landau_lifshitz_amplitude(a_b) / j, r, strict=True):
        lines.append(f"{row[0]:5.1f} {row[1]:12.5e} {row[2]:9.5f} {row[3]:8.4f} {row[4]:8.5f}")

    pot = SoftPotential.from_units(A=1.0, B=1.0, C=1.0, mass=24.25, a0=1.0)
    lines += ["", "worked material: A = B = C = 1 eV, m = 24.25 amu, a0 = 1 Å (physics.md §1.4):",
              f"  ε/k = {pot.epsilon / constants.k_B:.3f} K, w/k = {pot.w / constants.k_B:.2f} K, "
              f"η_L = {pot.eta_L:.4f}, ξ_L = {pot.xi_L:.4f}"]
    eta = -8.0 * pot.eta_L
    xi = np.array([0.0, 1e-4, 1e-3]) * pot.xi_L
    tl = tables.two_level(*pot.scaled(eta, xi))
    for x, u, jj in zip(xi, tl.u * pot.w / constants.k_B, tl.J * pot.w / constants.k_B, strict=True):
        lines.append(f"  η = {eta:.4f}, ξ = {x:.2e}: u/k = {u:.4e} K, J/k = {jj:.4e} K")
    lines += ["", "KKI two-level systems of that material, f = N h(η) g(ξ) with η_c = 0.8, ξ_c = 1.2, "
              "N = 1e27 m⁻³ (physics.md §3–4):",
              f"  {'T [K]':>7} {'n_1(kT)':>11} {'n_2(kT)':>11} {'c_TLS/T':>12} {'c_Debye/T (SiO2)':>17}",
              f"  {'':>7} {'[1/(J m³)]':>11} {'[1/(J m³)]':>11} {'[J/(m³K²)]':>12} {'[J/(m³K²)]':>17}"]
    dist = KKIDistribution(0.8, 1.2, 1e27)
    temps = np.array([0.05, 0.1, 0.2, 0.4])
    n1, n2 = tls_density(constants.k_B * temps, pot, dist)
    c_tls = kki_tls_heat_capacity(temps, pot, dist)
    c_debye = debye_heat_capacity(temps, 5800.0, 3750.0)
    for row in zip(temps, n1, n2, c_tls / temps, c_debye / temps, strict=True):
        lines.append(f"  {row[0]:7.2f} {row[1]:11.3e} {row[2]:11.3e} {row[3]:12.4e} {row[4]:17.4e}")
    return "\n".join(lines)

