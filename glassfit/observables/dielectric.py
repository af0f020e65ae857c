"""Resonant TLS in the dielectric of a superconducting microwave resonator, and the superconductor's quasiparticles
(docs/physics.md §11), SI units, vectorised over the resonance frequency and the temperature by broadcasting.

An electric field couples to a TLS through its dipole as strain couples through its deformation potential, so the
resonator's internal loss 1/Q_i and fractional frequency shift δf/f are the dielectric twins of the ultrasonic
Q⁻¹ and δv/v of :mod:`glassfit.observables.scattering` (physics.md §5.2, §5.4) with the tunnelling strength
C = P̄γ²/(ρv²) replaced by F δ⁰/π, δ⁰ = π P̄ p²/(3 ε₀ ε_r) the intrinsic TLS loss tangent of the host and F the
filling factor (the share of the electric energy stored in it):

    1/Q_TLS = F δ⁰ tanh(ħω/2kT) / (1 + n/n_c(T))^β,  n_c(T) = n_c (T/1 K)^ζ               (Phillips 1987; Gao 2008)
    δf/f    = (F δ⁰/π) [Re ψ(½ + ħω/(2πi kT)) − ln(ħω/(2π kT))]                          (Gao 2008; Pappas 2011)

with n the mean photon number and n_c its saturation value (ζ = 0 in the STM's simplest form).  The KKI forms
take the energy-dependent strength C_e(E) = F Σ_j |p_ge|² X_j(E)/(3 ε₀ ε_r) with the dipole p = e* a0 y of the soft
mode (:func:`kki_dielectric_strength`) in place of F δ⁰/π.  The superconductor adds the Mattis–Bardeen quasiparticle
terms (:func:`mattis_bardeen`).
"""

from __future__ import annotations

import numpy as np
from scipy.special import digamma, i0e, k0e

from glassfit import constants
from glassfit.batching import expand
from glassfit.observables.conductivity import kki_coupling

_K, _HBAR, _EPSILON_0 = constants.k_B, constants.hbar, constants.epsilon_0
#: BCS weak-coupling gap Δ(0) = 1.764 k T_c
BCS_GAP_RATIO = 1.764


def _omega_T(omega, T):
    return np.broadcast_arrays(np.asarray(omega, float), np.asarray(T, float))


def saturation(T, n, n_c, beta, zeta):
    """(1 + n/n_c(T))^β with n_c(T) = n_c (T/1 K)^ζ (dimensionless); T [K], n and n_c [photons] (physics.md §11.1)."""
    T = np.asarray(T, float)
    n_c = expand(n_c, T.ndim) * T ** expand(zeta, T.ndim)
    return (1.0 + np.asarray(n, float) / n_c) ** expand(beta, T.ndim)


def tls_loss(omega, T, n, fdelta0, n_c, beta, zeta=0.0):
    """1/Q_TLS = F δ⁰ tanh(ħω/2kT)/(1 + n/n_c(T))^β (dimensionless); ω [rad/s], T [K], n and n_c [photons]
    (physics.md §11.1; :func:`saturation`)."""
    omega, T = _omega_T(omega, T)
    return expand(fdelta0, omega.ndim) * np.tanh(_HBAR * omega / (2.0 * _K * T)) / saturation(T, n, n_c, beta, zeta)


def tls_frequency_shift(omega, T, fdelta0):
    """δf/f = (F δ⁰/π)[Re ψ(½ + ħω/(2πi kT)) − ln(ħω/(2π kT))] (dimensionless; physics.md §11.1): 0 at T → 0,
    (F δ⁰/π)[ψ(½) + ln(2π kT/ħω)] for kT ≫ ħω."""
    omega, T = _omega_T(omega, T)
    y = _HBAR * omega / (2.0 * np.pi * _K * T)
    return expand(fdelta0, omega.ndim) / np.pi * (np.real(digamma(0.5 - 1j * y)) - np.log(y))


def kki_dielectric_strength(scales, distribution, charge, a0, eps_r, filling):
    """C_e(E) = F Σ_j |p_ge|² X_j(E)/(3 ε₀ ε_r) (dimensionless) as a callable of E [J], with the dipole p = q y,
    q = e* a0 [C m] of both TLS types (physics.md §11.2): the KKI coupling density of
    :func:`glassfit.observables.conductivity.kki_coupling` with q in place of the deformation coupling χ.
    ``charge`` e* [C], ``a0`` [m]; the factor 1/3 averages the dipoles' orientations."""
    q = np.asarray(charge * a0, float)                                     # a number, or (B,) of a batch
    strength = np.asarray(filling / (3.0 * _EPSILON_0 * eps_r), float)
    coupling = kki_coupling(scales, distribution, q, q)
    return lambda E: coupling(E) * expand(strength, np.ndim(E))


def kki_loss(omega, T, strength):
    """KKI resonant 1/Q_TLS = π C_e(ħω) tanh(ħω/2kT) at low power (physics.md §11.2): the STM form with
    F δ⁰ = π C_e(ħω); ``strength`` is :func:`kki_dielectric_strength`."""
    omega, T = _omega_T(omega, T)
    return np.pi * strength(_HBAR * omega) * np.tanh(_HBAR * omega / (2.0 * _K * T))


def thermal_gap(T, gap):
    """Δ(T) = Δ₀ [1 − √(2π kT/Δ₀) e^(−Δ₀/kT)] [J], the BCS gap at kT ≪ Δ₀ (Mühlschlegel 1959; Gao 2008 §2.2):
    the quasiparticles' reduction of the gap, of the same order as their share of σ₂.  Tested against the BCS gap
    equation (tests/test_dielectric.py)."""
    T = np.asarray(T, float)
    gap = expand(gap, T.ndim)
    return gap * (1.0 - np.sqrt(2.0 * np.pi * _K * T / gap) * np.exp(-gap / (_K * T)))


def mattis_bardeen(omega, T, gap):
    """(σ₁/σ_N, σ₂/σ_N) of a BCS superconductor for kT, ħω ≪ Δ₀ (Mattis & Bardeen 1958 in the limits of Gao 2008,
    eqs. 2.95–2.96; Zmuidzinas 2012):

        σ₁/σ_N = (4Δ/ħω) e^(−Δ₀/kT) sinh ξ K₀(ξ),    σ₂/σ_N = (πΔ/ħω) [1 − 2 e^(−Δ₀/kT) e^(−ξ) I₀(ξ)],   ξ = ħω/2kT,

    with Δ = Δ(T) of :func:`thermal_gap` (``gap`` = Δ₀ [J]): the gap's fall is of the order of the thermal term and
    makes 1/3 of σ₂'s change at NbN's 1.7 K.  Tested against the Mattis–Bardeen integrals with the BCS Δ(T)
    (tests/test_dielectric.py)."""
    omega, T = _omega_T(omega, T)
    gap0 = expand(gap, omega.ndim)
    xi = _HBAR * omega / (2.0 * _K * T)
    thermal = np.exp(-gap0 / (_K * T))
    ratio = thermal_gap(T, gap) / (_HBAR * omega)
    sinh_k0 = 0.5 * (1.0 - np.exp(-2.0 * xi)) * k0e(xi)                   # sinh ξ K₀(ξ), overflow-free
    return 4.0 * ratio * thermal * sinh_k0, np.pi * ratio * (1.0 - 2.0 * thermal * i0e(xi))


def quasiparticle_loss(omega, T, gap, alpha):
    """1/Q_qp = α σ₁/σ₂ (dimensionless) of a thin film with kinetic-inductance fraction α (Gao 2008 §2.4; for a
    thick film α stands for α γ)."""
    sigma_1, sigma_2 = mattis_bardeen(omega, T, gap)
    return expand(alpha, np.ndim(sigma_1)) * sigma_1 / sigma_2


def quasiparticle_shift(omega, T, gap, alpha):
    """δf/f_qp = (α/2)(σ₂(T) − σ₂(0))/σ₂(0) = −(α/2) e^(−Δ₀/kT) [√(2π kT/Δ₀) + 2 e^(−ξ) I₀(ξ)] to first order in
    e^(−Δ₀/kT) (dimensionless, < 0: the resonance moves down as quasiparticles appear; Gao 2008 §2.4, eq. 2.97 in its
    n_qp form); ``gap`` = Δ₀ [J]."""
    omega, T = _omega_T(omega, T)
    gap = expand(gap, omega.ndim)
    kT = _K * T
    xi = _HBAR * omega / (2.0 * kT)
    return -0.5 * expand(alpha, omega.ndim) * np.exp(-gap / kT) * (np.sqrt(2.0 * np.pi * kT / gap) + 2.0 * i0e(xi))


__all__ = ["BCS_GAP_RATIO", "kki_dielectric_strength", "kki_loss", "mattis_bardeen", "quasiparticle_loss",
           "quasiparticle_shift", "saturation",
           "tls_frequency_shift", "tls_loss"]
