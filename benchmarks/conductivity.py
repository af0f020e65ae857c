"""KKI thermal-conductivity benchmark: resonant phonon scattering by the KKI TLS and κ(T).

Prints the time of one KKIConductivityModel evaluation at 50 temperatures (resonant KKI scattering +
Rayleigh plateau, tables and iso-energy nodes cached; target ≤ 20 ms) and compares it with a direct
reference measured in the same run: for each T, adaptive scipy quadrature over x = ħω/kT of the kinetic
integrand, with the KKI l⁻¹ at every ω from a fresh iso-energy quadrature of the coupling density at
exactly that energy (no interpolation grid).  Target: ≥ 50× faster, agreeing to 1e-3.

Run: python benchmarks/conductivity.py
"""

from __future__ import annotations

import time

import numpy as np
from scipy.integrate import quad

from glassfit import constants
from glassfit.density import U_TILDE_GRID, U_TILDE_MAX, IsoEnergyQuadrature
from glassfit.distributions import KKIDistribution
from glassfit.models import KKIConductivityModel
from glassfit.potential import PotentialScales

K, HBAR = constants.k_B, constants.hbar


def reference_kappa(T, p):
    """κ(T) [W m⁻¹ K⁻¹] of KKIConductivityModel(plateau="rayleigh") parameter values ``p``, directly."""
    scales = PotentialScales(p["w"] * K, p["eta_L"], p["xi_L"], length=1.0)
    dist = KKIDistribution(p["eta_c"], p["xi_c"], 10 ** p["log10_N"])
    kappa = 0.0
    for mult, v, ratio in ((1, p["v_l"], 1.0), (2, p["v_t"], p["chi_t_ratio"])):      # branches l, t
        chi1, chi2 = ratio * p["chi_1"] * constants.eV, ratio * p["chi_2"] * constants.eV

        def inverse_mfp(x, v=v, chi1=chi1, chi2=chi2):
            omega = K * T * x / HBAR
            u = np.clip(HBAR * omega / scales.w, U_TILDE_GRID[0], U_TILDE_MAX)     # same continuation
            x1, x2 = IsoEnergyQuadrature([u]).coupling(scales, dist, "x_ge2")
            res = np.pi * omega / (p["rho"] * v**3) * np.tanh(x / 2) * (chi1**2 * x1[0] + chi2**2 * x2[0])
            return res + 10 ** p["log10_A_R"] * omega**4

        integral = quad(lambda x: x**4 * np.exp(-x) / (-np.expm1(-x)) ** 2 / inverse_mfp(x), 1e-8, 60,
                        epsrel=1e-8, limit=200)[0]
        kappa += mult * K / (6 * np.pi**2 * v**2) * (K * T / HBAR) ** 3 * integral
    return kappa


def main():
    # imported here, not at the top: the tests load reference_kappa from this file without benchmarks/ on sys.path
    from common import report_against_reference

    model = KKIConductivityModel(plateau="rayleigh")
    params = model.make_params(chi_1=dict(value=3.0), chi_2=dict(value=2.0), log10_A_R=dict(value=-41.0),
                               rho=dict(value=1200.0), v_l=dict(value=3000.0), v_t=dict(value=1500.0))
    T = np.geomspace(0.05, 0.5, 50)
    model.eval(params, T=T)                                            # tables and nodes once
    reps = 50
    t0 = time.perf_counter()
    for i in range(reps):
        params["chi_1"].set(value=3.0 + 1e-9 * i)
        fast = model.eval(params, T=T)
    t_fast = (time.perf_counter() - t0) / reps

    values = params.valuesdict()
    report_against_reference("KKI κ(T)", fast, t_fast, lambda t: reference_kappa(t, values), T, 10, 20, 50)


if __name__ == "__main__":
    main()
