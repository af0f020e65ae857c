"""Thermal conductivity κ(T) from the phonon kinetic integral (physics.md §6), SI units.

    κ(T) = Σ_α (k / (6π² v_α²)) (kT/ħ)³ ∫_0^∞ x⁴ eˣ/(eˣ − 1)² l_α(ω = kT x/ħ, T) dx      [W m⁻¹ K⁻¹]

with l_α = 1/Σ_mechanisms l⁻¹ (Matthiessen's rule, physics.md §5.6) per polarisation α = l, t (the
transverse branch counted twice).  The Debye cutoff is not imposed: below ~2 K the integrand has
died out (e^(−x) x⁴ l) long before ħω_D.  The x-integral runs on fixed Gauss–Legendre panels
(16 nodes × 12 panels on [0, 60], graded towards 0, where an energy-dependent KKI coupling leaves an
integrable end-point singularity), exact to ≈ 1e-10 for the STM κ = Σ_α k³T²/(6πħ² C_α v_α).

Validity of the KKI forms: the coupling is tabulated for 1e-9 ≤ ħω/w ≤ 0.8 and continued flat outside;
above ≈ 0.86 w no tunnelling doublet exists, so TLS-only κ(T) holds while the thermal phonons
(x ≲ 20) stay below that, kT ≲ w/25.
"""

from __future__ import annotations

import numpy as np

from glassfit import constants
from glassfit.batching import expand
from glassfit.density import U_TILDE_GRID, EnergyCurves, quadrature_for
from glassfit.distributions import as_distribution
from glassfit.potential import PotentialScales
from glassfit.quadrature import gauss_legendre_panels
from glassfit.validation import finite_array, inputs_trusted, positive_array, positive_scalar

_K, _HBAR = constants.k_B, constants.hbar
# graded towards x = 0, where an energy-dependent coupling (KKI) leaves an integrable end-point singularity
_X, _W = gauss_legendre_panels([0.0, 1e-4, 1e-3, 1e-2, 0.05, 0.2, 0.5, 2.0, 5.0, 10.0, 20.0, 35.0, 60.0])
_W = _W * _X**4 * np.exp(-_X) / (-np.expm1(-_X)) ** 2

POLARISATIONS = {"l": 1, "t": 2}     # branch multiplicity


def thermal_conductivity(T, inverse_mfp, v_l, v_t):
    """κ(T) [W m⁻¹ K⁻¹] for per-polarisation inverse mean free paths (physics.md §6).

    ``inverse_mfp(polarisation, omega, T)`` returns the total l⁻¹ [1/m] of branch "l" or "t" for
    arrays ω [rad/s] and T [K] of one shape (sum your mechanisms there: Matthiessen's rule).  For a batch of P
    parameter sets (v_l, v_t of shape (P,), :mod:`glassfit.batching`) it returns shape (P, *ω.shape), and κ has
    shape (P, *T.shape).
    """
    T = positive_array("T", T, "temperatures T (K)")
    velocities = {"l": positive_scalar("v_l", v_l), "t": positive_scalar("v_t", v_t)}
    kT = _K * T[..., None]
    omega = kT * _X / _HBAR
    T_nodes = np.broadcast_to(T[..., None], omega.shape)
    kappa = 0.0
    for pol, multiplicity in POLARISATIONS.items():
        inv = np.asarray(inverse_mfp(pol, omega, T_nodes), float)
        if not inputs_trusted() and (np.any(~np.isfinite(inv)) or np.any(inv <= 0)):
            raise ValueError(f"the inverse mean free path of branch {pol!r} must be finite and > 0")
        v = expand(velocities[pol], T.ndim)
        kappa = kappa + (multiplicity * _K / (6.0 * np.pi**2 * v**2) * (kT[..., 0] / _HBAR) ** 3
                         * np.sum(_W / inv, axis=-1))
    return kappa


def stm_conductivity(T, C_l, C_t, v_l, v_t):
    """STM closed form κ = Σ_α k³ T²/(6π ħ² C_α v_α) [W m⁻¹ K⁻¹] (physics.md §6), pure resonant scattering."""
    T = finite_array("T", T)
    C_l, C_t, v_l, v_t = (positive_scalar(n, x) for n, x in (("C_l", C_l), ("C_t", C_t), ("v_l", v_l), ("v_t", v_t)))
    const = _K**3 / (6.0 * np.pi * _HBAR**2)
    return const * T**2 * expand(1.0 / (C_l * v_l) + 2.0 / (C_t * v_t), T.ndim)


def kki_coupling(scales, distribution, chi_1, chi_2, barrier_max=None):
    """Σ_j χ_j² X_j(E) [J m⁻³] as a callable of E [J], for one polarisation (physics.md §5.2).

    X_j is the |⟨g|y|e⟩|²-weighted TLS density of type j (:func:`glassfit.density.coupling_density`)
    with positions in the scaled coordinate y, so χ_j is the coupling of type j to this branch's strain
    per unit y, in J (χ per a0 times ℓ); the deformation potential of a TLS is then D = χ δy.
    Interpolated in (ln E, ln X) on :data:`glassfit.density.U_TILDE_GRID`, flat outside it; one curve, or one per
    parameter set of a batch (:class:`~glassfit.density.EnergyCurves`).
    """
    distribution = as_distribution(distribution)
    in_y = PotentialScales(scales.w, scales.eta_L, scales.xi_L, length=1.0)
    x1, x2 = quadrature_for(U_TILDE_GRID, barrier_max).coupling(in_y, distribution, "x_ge2")
    return EnergyCurves(U_TILDE_GRID, expand(chi_1**2, 1) * x1 + expand(chi_2**2, 1) * x2, scales.w)


__all__ = ["POLARISATIONS", "kki_coupling", "stm_conductivity", "thermal_conductivity"]
