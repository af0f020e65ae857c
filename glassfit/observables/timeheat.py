"""Time-dependent specific heat c(T, t): Black's law of the STM and the KKI law (physics.md §7).

A measurement of duration t sees only the two-level systems that relax within t.  With a step window
(relaxed iff τ ≤ t) or an exponential one (weight 1 − e^(−t/τ)):

* **Black / STM** (Black 1978; KKI eq. 6.1): τ = τ_min(E) E²/Δ0², τ_min(E) = [K_τ E³ coth(E/2kT)]⁻¹,
  n(E, t) = P̄ arcsech(sqrt(τ_min/t)) (step) → (P̄/2) ln(4t/τ_min) for t ≫ τ_min, and
  c(T, t) → (π²/12) P̄ k² T ln(4t/τ_min(E*)), E* = 2.9359 kT; the exponential window adds Euler's γ.
* **KKI** (physics.md §7.2, production form): every (η, ξ) of the iso-energy quadrature with its exact
  splitting and its exact one-phonon rate τ⁻¹ (:func:`glassfit.observables.scattering.kki_relaxation_rate`,
  |x_ge|² of the exact eigenvectors), c(T, t) = ∫ du k (u/2kT)² sech²(u/2kT) Σ_TLS(u) W(t/τ).
  As t → ∞ every weight → 1 and c(T, t) → c_TLS(T).

Units: T [K], t [s], c [J m⁻³ K⁻¹].
"""

from __future__ import annotations

import numpy as np
from scipy.interpolate import CubicSpline, PchipInterpolator

from glassfit import constants
from glassfit._quadrature import unit_interval_nodes
from glassfit._validate import positive_array
from glassfit.density import U_TILDE_GRID, quadrature_for
from glassfit.distributions import as_distribution
from glassfit.observables.heat import X_NODES, X_WEIGHTS
from glassfit.observables.scattering import _rate_at_zero_temperature

_K = constants.k_B
#: x* = E*/kT of Black's asymptote: ⟨ln(x³ coth(x/2))⟩ over (x/2)² sech²(x/2) (physics.md §7.1)
X_STAR = 2.9358970925208516
WINDOWS = ("step", "exponential")
_PANELS = 2          # Gauss–Legendre panels of the iso-energy nodes: n(u) is converged to 1e-8 already


def _exponential_window_table():
    """g(z) = ½ ∫_0^1 (1 − e^(−z u))/(u sqrt(1 − u)) du on ln z ∈ [−30, 60] (spline) — the exponential-window
    arcsech; g → ½ [ln 4z + γ_E] for z ≫ 1 and → z/... for z ≪ 1."""
    u, w_du, sqrt_1mu = unit_interval_nodes(1e-40, 30, order=32)
    measure = w_du / (u * sqrt_1mu)                                                 # du/(u sqrt(1−u))
    log_z = np.linspace(-30.0, 60.0, 451)
    g = 0.5 * np.sum(measure * -np.expm1(-np.exp(log_z)[:, None] * u), axis=1)
    return log_z, CubicSpline(log_z, g)


_LOG_Z, _G_EXP = _exponential_window_table()


def relaxed_fraction(z, window="step"):
    """n(E, t)/P̄ of the STM for z = t/τ_min(E): arcsech(z^(−1/2)) for z ≥ 1 (step) or its exponential-window form."""
    z = np.asarray(z, float)
    if window == "step":
        safe = np.maximum(z, 1.0)
        return np.where(z >= 1.0, np.log((1.0 + np.sqrt(1.0 - 1.0 / safe)) * np.sqrt(safe)), 0.0)
    if window == "exponential":
        log_z = np.log(np.maximum(z, 1e-300))
        inside = _G_EXP(np.clip(log_z, _LOG_Z[0], _LOG_Z[-1]))
        large = 0.5 * (np.log(4.0) + log_z + np.euler_gamma)
        return np.where(log_z > _LOG_Z[-1], large, np.where(log_z < _LOG_Z[0], 0.5 * z * 2.0, inside))
    raise ValueError(f"window must be one of {WINDOWS}, got {window!r}")


def _grid(T, t):
    return np.broadcast_arrays(positive_array("T", T, "temperatures T (K)"),
                               positive_array("t", t, "measurement times t (s)"))


def black_heat_capacity(T, t, P0, K_tau, window="step"):
    """STM c(T, t) [J m⁻³ K⁻¹] with the exact arcsech form of n(E, t) (physics.md §7.1); P0 [J⁻¹ m⁻³],
    K_tau [J⁻³ s⁻¹] (:func:`glassfit.observables.scattering.relaxation_constant`)."""
    T, t = _grid(T, t)
    kT = _K * T[..., None]
    tau_min = np.tanh(X_NODES / 2.0) / (K_tau * (kT * X_NODES) ** 3)
    n = P0 * relaxed_fraction(t[..., None] / tau_min, window)
    return _K**2 * T * np.sum(n * X_WEIGHTS, axis=-1)


def black_asymptote(T, t, P0, K_tau, window="step"):
    """(π²/12) P̄ k² T [ln(4t/τ_min(E*)) (+ γ_E for the exponential window)], E* = 2.9359 kT (physics.md §7.1)."""
    T, t = _grid(T, t)
    tau_star = np.tanh(X_STAR / 2.0) / (K_tau * (_K * T * X_STAR) ** 3)
    extra = np.euler_gamma if window == "exponential" else 0.0
    return np.pi**2 / 12.0 * P0 * _K**2 * T * (np.log(4.0 * t / tau_star) + extra)


def kki_heat_capacity(T, t, scales, distribution, chi, rho, v_l, v_t, window="exponential", barrier_max=None):
    """KKI c(T, t) [J m⁻³ K⁻¹]: every TLS with its exact splitting and exact one-phonon τ (physics.md §7.2).

    ``chi`` = {"l": (χ_1, χ_2), "t": (χ_1, χ_2)} in J per unit y (as :func:`kki_relaxation`); ρ [kg/m³],
    v [m/s].  As t → ∞ this is c_TLS(T) of :func:`glassfit.observables.heat.kki_tls_heat_capacity`.
    """
    if window not in WINDOWS:
        raise ValueError(f"window must be one of {WINDOWS}, got {window!r}")
    T, t = _grid(T, t)
    distribution = as_distribution(distribution)
    quad_nodes = quadrature_for(U_TILDE_GRID, barrier_max, n_panels=_PANELS)
    u = U_TILDE_GRID * scales.w
    T_pts, t_pts = T.ravel(), t.ravel()
    out = np.empty(T_pts.shape)
    # every representation of one shape (2 for type 2, 4 for type 1) has the same levels and τ:
    # sum their densities first, so each distinct TLS is weighted once
    shapes = quad_nodes.type2.alpha.shape[1] // 2
    per_type = []
    for j, nodes in enumerate((quad_nodes.type1, quad_nodes.type2)):
        dens = nodes.weight * distribution(scales.eta_L * nodes.alpha, scales.xi_L * nodes.beta)
        dens = dens.reshape(u.size, -1, shapes).sum(axis=1) * scales.eta_L * scales.xi_L / scales.w
        rate0 = _rate_at_zero_temperature(u[:, None], nodes.x_ge2[:, :shapes], chi["l"][j], chi["t"][j],
                                          rho, v_l, v_t)
        per_type.append((dens, rate0))
    log_u = np.log(U_TILDE_GRID)
    for T_i in np.unique(T_pts):
        at = np.nonzero(T_pts == T_i)[0]
        coth = 1.0 / np.tanh(u / (2.0 * _K * T_i))
        sums = np.zeros((at.size, u.size))
        for dens, rate0 in per_type:
            with np.errstate(over="ignore"):                                            # t/τ → ∞: weight 1
                t_over_tau = t_pts[at, None, None] * (rate0 * coth[:, None])[None]       # (n_t, K, M)
            weight = (t_over_tau >= 1.0) if window == "step" else -np.expm1(-t_over_tau)
            sums += np.sum(dens * weight, axis=-1)
        values = np.log(np.maximum(sums, 1e-300)).T                                     # (K, n_t)
        spline = CubicSpline(log_u, values) if np.all(sums > 0) else PchipInterpolator(log_u, values)
        x_u = np.clip(np.log(_K * T_i * X_NODES / scales.w), log_u[0], log_u[-1])
        out[at] = _K**2 * T_i * np.sum(X_WEIGHTS[:, None] * np.exp(spline(x_u)), axis=0)
    return out.reshape(T.shape)


__all__ = ["WINDOWS", "X_STAR", "black_asymptote", "black_heat_capacity", "kki_heat_capacity", "relaxed_fraction"]
