"""Phonon scattering by tunnelling states and soft modes (physics.md §5), per polarisation, SI units.

Inverse mean free paths l⁻¹ [1/m] (the energy attenuation; amplitude attenuation is l⁻¹/2,
dB/m = 4.343 l⁻¹), internal friction Q⁻¹ = l⁻¹ v/ω, and relative velocity changes δv/v, all
vectorised over angular frequency ω [rad/s] and temperature T [K] by broadcasting.

STM tunnelling strength C_α = P̄ γ_α²/(ρ v_α²) (physics.md §0), one-phonon relaxation constant
K_τ = (γ_l²/v_l⁵ + 2γ_t²/v_t⁵)/(2π ρ ħ⁴) [J⁻³ s⁻¹] (§5.3).  The KKI forms replace γ²(Δ0/E)² by
χ²|x_ge|² of the exact eigenvectors (§5.1): χ [J per unit x, x in units of a0] is the linear coupling
of the soft mode to strain, and the deformation potential of a TLS is D = χ δx = 2γ.
"""

from __future__ import annotations

import numpy as np
from scipy.special import digamma, expit

from glassfit import constants
from glassfit.batching import CACHE_ELEMENTS, batch_shape, expand
from glassfit.density import U_TILDE_GRID, EnergyCurves, distinct_tls, quadrature_for
from glassfit.quadrature import gauss_legendre_panels, unit_interval_nodes
from glassfit.validation import finite_array, positive_array, positive_scalar

_K, _HBAR = constants.k_B, constants.hbar

# Gauss–Legendre nodes in x = E/kT on [0, 40], and in q = (Δ0/E)² on (1e-30, 1) with the weights of
# the measure sqrt(1 − q) dq/(2q)
_X_E, _W_E = gauss_legendre_panels([0.0, 1.0, 3.0, 7.0, 15.0, 40.0])
_Q, _W_DQ, _SQRT_1MQ = unit_interval_nodes(1e-30, 24)

_W_Q = _W_DQ * _SQRT_1MQ / (2.0 * _Q)

#: The principal-value quadrature of :func:`principal_value_shift`: PV_ORDER Gauss–Legendre nodes on panels
#: PV_PANEL_WIDTH wide in ln E from PV_LOWEST · min(ħω, kT) to E_max.  With a constant strength its T-dependence is
#: the digamma form's to < 1e-12 relative at 5 GHz, 0.05–2 K (tests/test_dielectric.py).
PV_PANEL_WIDTH = 1.0
PV_ORDER = 16
PV_LOWEST = 1e-5


def _omega_T(omega, T):
    return np.broadcast_arrays(positive_array("omega", omega, "angular frequencies omega (rad/s)"),
                               positive_array("T", T, "temperatures T (K)"))


def relaxation_constant(gamma_l, gamma_t, rho, v_l, v_t):
    """K_τ = (γ_l²/v_l⁵ + 2γ_t²/v_t⁵)/(2π ρ ħ⁴) [J⁻³ s⁻¹]; γ in J, ρ in kg/m³, v in m/s (physics.md §5.3).

    Then τ⁻¹ = K_τ Δ0² E coth(E/2kT); a-SiO2 (γ_l = 1.0 eV, γ_t = 0.65 eV) gives
    τ_min(E = kT) = 9.1 ns × (1 K/T)³.
    """
    rho, v_l, v_t = (positive_scalar(n, x) for n, x in (("rho", rho), ("v_l", v_l), ("v_t", v_t)))
    return (gamma_l**2 / v_l**5 + 2.0 * gamma_t**2 / v_t**5) / (2.0 * np.pi * rho * _HBAR**4)


def relaxation_rate(E, delta0, T, K_tau):
    """One-phonon relaxation rate τ⁻¹ = K_τ Δ0² E coth(E/2kT) [1/s] (Jäckle 1972; physics.md §5.3); E, Δ0 in J."""
    E = finite_array("E", E)
    if np.any(E <= 0):
        raise ValueError("energies E must be > 0 [J]")
    return K_tau * np.asarray(delta0, float) ** 2 * E / np.tanh(E / (2.0 * _K * np.asarray(T, float)))


def kki_relaxation_rate(u, x_ge2, T, chi_l, chi_t, rho, v_l, v_t):
    """Exact-eigenvector one-phonon rate τ⁻¹ = (u³ coth(u/2kT)/(2πρħ⁴)) Σ_α m_α χ_α² |x_ge|²/v_α⁵ [1/s].

    physics.md §7.2 (production form of §5.3, γ_α² Δ0²/E² → χ_α² |x_ge|²; m_l = 1, m_t = 2); u in J,
    |x_ge|² in the unit of length χ is defined per (y or a0), χ in J per that unit, ρ in kg/m³, v in m/s.
    """
    u = np.asarray(u, float)
    coth = 1.0 / np.tanh(u / (2.0 * _K * np.asarray(T, float)))
    return kki_rate_at_zero_temperature(u, x_ge2, chi_l, chi_t, rho, v_l, v_t) * coth


def kki_rate_at_zero_temperature(u, x_ge2, chi_l, chi_t, rho, v_l, v_t):
    """τ⁻¹(T = 0) = u³ Σ_α m_α χ_α² |x_ge|²/(2πρħ⁴ v_α⁵) [1/s], the spontaneous one-phonon emission rate.

    :func:`kki_relaxation_rate` without its factor coth(u/2kT) (physics.md §5.3, §7.2); arguments and units as
    there.  Callers that evaluate one TLS at many temperatures compute this once and multiply by coth.
    """
    prefactor = (chi_l**2 / v_l**5 + 2.0 * chi_t**2 / v_t**5) / (2.0 * np.pi * rho * _HBAR**4)
    return prefactor * np.asarray(x_ge2, float) * np.asarray(u, float) ** 3


def resonant_inverse_mfp(omega, T, C, v):
    """STM resonant l⁻¹ = (π ω C/v) tanh(ħω/2kT) [1/m] (Hunklinger & Arnold 1976; physics.md §5.2)."""
    omega, T = _omega_T(omega, T)
    return np.pi * omega * expand(C / v, omega.ndim) * np.tanh(_HBAR * omega / (2.0 * _K * T))


def kki_resonant_inverse_mfp(omega, T, coupling, rho, v):
    """KKI resonant l⁻¹ = (π ω/(ρ v³)) tanh(ħω/2kT) Σ_j χ_j² Σ_TLS |x_ge|² δ(ħω − u_j) [1/m] (physics.md §5.2).

    ``coupling(E)`` [J m⁻³] returns Σ_j χ_j² X_j(E) for energies E [J], with X_j the |x_ge|²-weighted
    density of :func:`glassfit.density.coupling_density` (a0²/(J m³)) and χ_j in J per a0.
    """
    omega, T = _omega_T(omega, T)
    tanh = np.tanh(_HBAR * omega / (2.0 * _K * T))
    return np.pi * omega / expand(rho * v**3, omega.ndim) * tanh * coupling(_HBAR * omega)


def _relaxation_integrals(omega, T, K_tau):
    """(∫∫ absorption kernel, ∫∫ velocity kernel) of the STM relaxation (physics.md §5.4), per unit C/kT.

    With q = (Δ0/E)², P dE dΔ0 = P̄ dq dE/(2q sqrt(1 − q)), (Δ/E)² = 1 − q and τ = τ_min(E)/q:
        A = ∫ dE sech²(E/2kT) ∫ dq sqrt(1 − q)/(2q) · ωτ/(1 + ω²τ²)
        V = ∫ dE sech²(E/2kT) ∫ dq sqrt(1 − q)/(2q) · 1/(1 + ω²τ²)
    in units of kT.  Returns arrays broadcast like ω and T.
    """
    kT = _K * T[..., None, None]
    E = _X_E[:, None] * kT
    tau_min = np.tanh(E / (2.0 * kT)) / (expand(K_tau, E.ndim) * E**3)
    wt = omega[..., None, None] * tau_min / _Q                    # ωτ
    weight = (_W_E[:, None] / np.cosh(_X_E[:, None] / 2.0) ** 2) * _W_Q
    absorb = np.sum(weight * wt / (1.0 + wt**2), axis=(-2, -1))
    velocity = np.sum(weight / (1.0 + wt**2), axis=(-2, -1))
    return absorb, velocity


def relaxation_internal_friction(omega, T, C, K_tau):
    """STM relaxation Q⁻¹ (physics.md §5.4); plateau π C/2 for ωτ_min ≪ 1, (π⁴/12) C K_τ (kT)³/ω for ωτ_min ≫ 1."""
    omega, T = _omega_T(omega, T)
    return expand(C, omega.ndim) * _relaxation_integrals(omega, T, K_tau)[0]


def relaxation_inverse_mfp(omega, T, C, v, K_tau):
    """STM relaxation l⁻¹ = Q⁻¹ ω/v [1/m] (physics.md §5.4)."""
    omega, T = _omega_T(omega, T)
    return relaxation_internal_friction(omega, T, C, K_tau) * omega / expand(v, omega.ndim)


def relaxation_velocity_shift(omega, T, C, K_tau):
    """STM relaxational δv/v = −(C/2) V (physics.md §5.4); slope −(3/2) C per ln T while ωτ_min ≪ 1.

    Defined up to a T-independent constant (the u-integral is cut at (Δ0/E)² = 1e-30).
    """
    omega, T = _omega_T(omega, T)
    return -0.5 * expand(C, omega.ndim) * _relaxation_integrals(omega, T, K_tau)[1]


def resonant_velocity_shift(omega, T, C, E_ref=constants.k_B):
    """Resonant δv/v = C [Re ψ(½ + ħω/(2πi kT)) + ln(kT/E_ref)] (+ const) (physics.md §5.4); → C ln T for kT ≫ ħω.

    physics.md writes the last term as −ln(ħω/kT).  That adds −C ln ω at kT ≫ ħω, where the
    principal-value integral −C P∫ tanh(E/2kT) E/(E² − ħ²ω²) dE it stands for does not depend on ω,
    so fits across several frequencies would need a different offset for each; here the reference
    energy E_ref [J] (default k·1 K) is fixed instead.  Both forms have the same T-dependence at fixed ω.
    """
    omega, T = _omega_T(omega, T)
    y = _HBAR * omega / (_K * T)
    return expand(C, omega.ndim) * (np.real(digamma(0.5 + y / (2j * np.pi))) + np.log(_K * T / E_ref))


def kki_resonant_velocity_shift(omega, T, coupling, rho, v, e_max):
    """KKI resonant δv/v = −(1/(ρv²)) P∫_0^{E_max} S(E) tanh(E/2kT) E/(E² − (ħω)²) dE (+ const) (physics.md §5.4).

    The STM's −C P∫ tanh(E/2kT) E/(E² − ħ²ω²) dE with the energy-dependent coupling S(E) = Σ_j χ_j² X_j(E)
    of :func:`kki_resonant_inverse_mfp` in place of P̄γ².  ``e_max`` [J] is the fixed upper limit (the
    T-dependence does not depend on it once e_max ≫ kT); the principal value by :func:`principal_value_shift`
    with its T = 0 part (vectorised; an adaptive Cauchy-weighted quad per point before, whose lower cut at
    1e-6 min(ħω, kT) shifted the T-dependence by up to 1.3e-3 at low T).
    """
    omega, T = _omega_T(omega, T)
    stiffness = rho * v**2
    return principal_value_shift(omega, T, lambda E: coupling(E) / stiffness, e_max, from_zero=False)


def principal_value_shift(omega, T, strength, e_max, from_zero: bool = True):
    """δ(T) = −P∫_0^{E_max} C(E) [tanh(E/2kT) − 1] E/(E² − (ħω)²) dE (dimensionless): the resonant shift δv/v or δf/f
    of TLS of strength C(E) relative to T = 0 (physics.md §5.4, §11.2); with a constant C it is
    C [Re ψ(½ + ħω/(2πi kT)) − ln(ħω/2πkT)], the STM form.  tanh − 1 = −2 e^(−E/kT)/(1 + e^(−E/kT)) makes E_max
    [J] matter only through e^(−E_max/kT).  ``from_zero=False`` keeps tanh(E/2kT) itself: the shift with its
    T = 0 part, which depends on ħω and E_max (the acoustic δv/v of :func:`kki_resonant_velocity_shift`).
    ``strength`` maps energies [J] (any shape) to C(E), batched on the leading axes.

    The pole is subtracted, P∫ g(E)/(E − ħω) dE = ∫ [g(E) − g(ħω)]/(E − ħω) dE + g(ħω) ln((E_max − ħω)/ħω) with
    g(E) = C(E) [tanh(E/2kT) − 1] E/(E + ħω) (or C(E) tanh(E/2kT) E/(E + ħω)), and the smooth rest integrated by
    Gauss–Legendre panels in ln E (:data:`PV_PANEL_WIDTH`) from E_lo = :data:`PV_LOWEST` · min(ħω, kT) over the
    points, the log term then ln((E_max − ħω)/(ħω − E_lo)) (g itself, ∝ E below E_lo, adds < 1e-10 relative).
    """
    omega, T = _omega_T(omega, T)
    e0, kT = _HBAR * omega.ravel(), _K * T.ravel()                        # (n,) points
    lowest = PV_LOWEST * min(e0.min(), kT.min())                          # one E_lo, one set of nodes for all
    top = np.log(e_max / lowest)
    x, w = gauss_legendre_panels(np.linspace(0.0, top, int(np.ceil(top / PV_PANEL_WIDTH)) + 1), PV_ORDER)
    energies = lowest * np.exp(x)                                         # (m,) nodes, dE = E d(ln E)

    def g(E):
        thermal = -2.0 * expit(-E / kT[:, None]) if from_zero else np.tanh(E / (2.0 * kT[:, None]))
        return strength(E) * thermal * E / (E + e0[:, None])

    at_pole = g(e0[:, None])[..., 0]                                      # (..., n)
    smooth = (g(energies[None, :]) - at_pole[..., None]) / (energies[None, :] - e0[:, None])
    integral = smooth @ (w * energies) + at_pole * np.log((e_max - e0) / (e0 - lowest))
    return -integral.reshape(integral.shape[:-1] + omega.shape)


def kki_relaxation(omega, T, scales, distribution, chi, rho, v_l, v_t, branch="l", barrier_max=None,
                   velocity: bool = True):
    """(Q⁻¹, δv/v) of one-phonon relaxation of the KKI TLS of both types, TLS by TLS (physics.md §5.4, §7.2).

    The STM's γ²(Δ/E)² becomes χ_jα² (x_ee − x_gg)²/4 and its τ the exact-eigenvector rate of
    :func:`kki_relaxation_rate` with each TLS's |x_ge|², summed over the iso-energy nodes of
    :mod:`glassfit.density` at every energy and integrated against sech²(E/2kT):

        Q⁻¹      = (1/(ρ v_α²)) ∫ dx sech²(x/2) Σ_TLS(E = x kT) (χ_jα² dx²/4) ωτ/(1 + ω²τ²)
        (δv/v)   = −(1/(2 ρ v_α²)) ∫ dx sech²(x/2) Σ_TLS (χ_jα² dx²/4) /(1 + ω²τ²)

    ``chi`` = {"l": (χ_1l, χ_2l), "t": (χ_1t, χ_2t)} in J per unit y; ``branch`` the measured one.
    ``velocity=False`` skips δv/v (returned as None), halving the cost when only Q⁻¹ is wanted.
    Valid while the thermal TLS lie on the tabulated grid (40 kT ≲ 0.8 w).
    """
    omega, T = _omega_T(omega, T)
    types = [tls.relaxing() for tls in distinct_tls(quadrature_for(U_TILDE_GRID, barrier_max), scales, distribution)]
    chi_values = (*chi["l"], *chi["t"])
    batch = np.broadcast_shapes(types[0].density.shape[:-2],                   # () or (B,): a batch of B sets
                                batch_shape(scales.w, *chi_values, rho, v_l, v_t))
    u = expand(scales.w, 1) * U_TILDE_GRID                                     # (K,), a batch (B, K)
    w_pts, t_pts = omega.ravel(), T.ravel()                                     # the n points
    coth = 1.0 / np.tanh(u[..., None, :] / (2.0 * _K * t_pts[:, None]))        # (n, K)
    s_abs = np.zeros((*batch, w_pts.size, U_TILDE_GRID.size))
    s_vel = np.zeros_like(s_abs) if velocity else None
    # points a slice, so that the (sets, points, K, M) temporaries stay in the processor's cache
    step = max(1, CACHE_ELEMENTS // (int(np.prod(batch)) * int(np.prod(types[0].density.shape[-2:]))))
    for j, tls in enumerate(types):
        couple = tls.density * expand(chi[branch][j] ** 2, 2) * tls.dx2 / 4.0   # (K, M)
        rate0 = kki_rate_at_zero_temperature(u[..., None], tls.x_ge2, *(expand(c, 2) for c in (
            chi["l"][j], chi["t"][j], rho, v_l, v_t)))
        for start in range(0, w_pts.size, step):
            at = slice(start, start + step)
            # q = τ⁻¹/ω: ωτ/(1 + ω²τ²) = q/(1 + q²) and 1/(1 + ω²τ²) = q²/(1 + q²), finite for τ⁻¹ = 0 (J = 0)
            q = rate0[..., None, :, :] * (coth[..., at, :] / w_pts[at, None])[..., None]   # (n, K, M)
            q2 = q * q
            one_plus = q2 + 1.0
            if velocity:
                s_vel[..., at, :] += np.einsum("...km,...pkm->...pk", couple, np.divide(q2, one_plus, out=q2))
            s_abs[..., at, :] += np.einsum("...km,...pkm->...pk", couple, np.divide(q, one_plus, out=q))
    weight = _W_E / np.cosh(_X_E / 2.0) ** 2
    energies = _X_E * _K * t_pts[:, None]                                       # (n, n_x): each point's own kT
    stiffness = expand(rho * (v_l if branch == "l" else v_t) ** 2, 1)

    def integrate(sums):                    # ∫ dx sech²(x/2) Σ_TLS(E = x kT) ..., one curve a point (and set)
        return np.einsum("...x,x->...", EnergyCurves(U_TILDE_GRID, sums, scales.w, points=1)(energies), weight)

    q_inv = (integrate(s_abs) / stiffness).reshape(batch + omega.shape)
    if not velocity:
        return q_inv, None
    return q_inv, (-integrate(s_vel) / (2.0 * stiffness)).reshape(batch + omega.shape)


def spm_vibration_inverse_mfp(omega, C, v, W):
    """SPM resonant scattering by soft quasi-harmonic vibrations, (π C ω/v)(√2/12)(ħω/W)³ [1/m] (physics.md §5.5)."""
    omega = finite_array("omega", omega)
    C, v, W = (expand(q, omega.ndim) for q in (C, v, W))
    return np.pi * C * omega / v * (np.sqrt(2.0) / 12.0) * (_HBAR * omega / W) ** 3


def spm_activated_internal_friction(omega, T, C, W, tau0=1e-13):
    """SPM thermally activated relaxation, Q⁻¹ = π C (kT/W)^(3/4) ln^(−1/4)(1/ωτ0) (physics.md §5.5); W in J."""
    omega, T = _omega_T(omega, T)
    if np.any(omega * tau0 >= 0.1):
        raise ValueError("the activated-relaxation law needs ω τ0 ≪ 1 (ω < 0.1/τ0); it is a low-frequency form")
    return np.pi * C * (_K * T / W) ** 0.75 * np.log(1.0 / (omega * tau0)) ** -0.25


def rayleigh_inverse_mfp(omega, A_R):
    """Rayleigh-type l⁻¹ = A_R ω⁴ [1/m], A_R in s⁴/m (physics.md §5.6)."""
    omega = finite_array("omega", omega)
    return expand(A_R, omega.ndim) * omega**4


def internal_friction(inverse_mfp, omega, v):
    """Q⁻¹ = l⁻¹ v/ω (dimensionless) from l⁻¹ [1/m], ω [rad/s] and v [m/s] (physics.md §5)."""
    omega = np.asarray(omega, float)
    return np.asarray(inverse_mfp, float) * expand(v, omega.ndim) / omega


__all__ = [
    "PV_LOWEST",
    "PV_ORDER",
    "PV_PANEL_WIDTH",
    "internal_friction",
    "kki_rate_at_zero_temperature",
    "kki_relaxation",
    "kki_relaxation_rate",
    "kki_resonant_inverse_mfp",
    "kki_resonant_velocity_shift",
    "principal_value_shift",
    "rayleigh_inverse_mfp",
    "relaxation_constant",
    "relaxation_internal_friction",
    "relaxation_inverse_mfp",
    "relaxation_rate",
    "relaxation_velocity_shift",
    "resonant_inverse_mfp",
    "resonant_velocity_shift",
    "spm_activated_internal_friction",
    "spm_vibration_inverse_mfp",
]
