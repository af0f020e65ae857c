"""``python -m glassfit``: build (or load) the spectrum tables and print a summary of the engine.

This is the README's main job until the ``glassfit`` command line exists.
"""

from __future__ import annotations

import sys
import time

import numpy as np


def spectrum_summary() -> str:
    """A printable summary: table cache, exact vs approximate tunnelling amplitudes, a worked material."""
    from glassfit import constants
    from glassfit.potential import SoftPotential, instanton_amplitude, landau_lifshitz_amplitude
    from glassfit.tables import cache_dir, default_tables

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
    return "\n".join(lines)


def main() -> int:
    print(spectrum_summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
