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

from dataclasses import dataclass

import numpy as np
from scipy.interpolate import CubicSpline

from glassfit import constants
from glassfit.batching import CACHE_ELEMENTS, expand
from glassfit.density import (
    A_B_TAIL,
    U_TILDE_GRID,
    U_TILDE_MAX,
    EnergyCurves,
    distinct_tls,
    quadrature_for,
    threshold_barrier,
    type1_from_barrier_frame,
)
from glassfit.distributions import as_distribution
from glassfit.observables.heat import X_NODES, X_WEIGHTS
from glassfit.observables.scattering import kki_rate_at_zero_temperature
from glassfit.potential import instanton_action
from glassfit.quadrature import unit_interval_nodes
from glassfit.tables import default_tables
from glassfit.validation import positive_array, positive_scalar

_K = constants.k_B
#: x* = E*/kT of Black's asymptote: ⟨ln(x³ coth(x/2))⟩ over (x/2)² sech²(x/2) (physics.md §7.1)
X_STAR = 2.9358970925208516
#: K_σ = (8/9)(3/√2)^(2/3) of the flat-distribution closed form n_j(u) (physics.md §3.2)
K_SIGMA = 8.0 / 9.0 * (3.0 / np.sqrt(2.0)) ** (2.0 / 3.0)
WINDOWS = ("step", "exponential")
_PANELS = 2          # Gauss–Legendre panels of the iso-energy nodes: n(u) is converged to 1e-8 already


def _exponential_window_table():
    """g(z) = ½ ∫_0^1 (1 − e^(−z q))/(q sqrt(1 − q)) dq on ln z ∈ [−30, 60] (spline), the exponential-window
    form of arcsech(z^(−1/2)) (physics.md §7.1), with q = τ_min/τ = (Δ0/E)² and z = t/τ_min.

    g → ½ [ln 4z + γ_E] for z ≫ 1 and g → z for z ≪ 1 (then 1 − e^(−zq) ≈ zq and ½ ∫_0^1 dq/sqrt(1 − q) = 1).
    """
    q, w_dq, sqrt_1mq = unit_interval_nodes(1e-40, 30, order=32)
    measure = w_dq / (q * sqrt_1mq)                                                 # dq/(q sqrt(1−q))
    log_z = np.linspace(-30.0, 60.0, 451)
    g = 0.5 * np.sum(measure * -np.expm1(-np.exp(log_z)[:, None] * q), axis=1)
    return log_z, CubicSpline(log_z, g)


_LOG_Z, _G_EXP = _exponential_window_table()


def relaxed_fraction(z, window="step"):
    """n(E, t)/P̄ of the STM for z = t/τ_min(E): arcsech(z^(−1/2)) for z ≥ 1 (step) or its exponential-window
    form (physics.md §7.1); dimensionless."""
    z = np.asarray(z, float)
    if window == "step":
        safe = np.maximum(z, 1.0)
        return np.where(z >= 1.0, np.log((1.0 + np.sqrt(1.0 - 1.0 / safe)) * np.sqrt(safe)), 0.0)
    if window == "exponential":
        log_z = np.log(np.maximum(z, 1e-300))
        inside = _G_EXP(np.clip(log_z, _LOG_Z[0], _LOG_Z[-1]))
        large = 0.5 * (np.log(4.0) + log_z + np.euler_gamma)
        return np.where(log_z > _LOG_Z[-1], large, np.where(log_z < _LOG_Z[0], z, inside))
    raise ValueError(f"window must be one of {WINDOWS}, got {window!r}")


def _grid(T, t):
    return np.broadcast_arrays(positive_array("T", T, "temperatures T (K)"),
                               positive_array("t", t, "measurement times t (s)"))


def black_heat_capacity(T, t, P0, K_tau, window="step"):
    """STM c(T, t) [J m⁻³ K⁻¹] with the exact arcsech form of n(E, t) (physics.md §7.1); P0 [J⁻¹ m⁻³],
    K_tau [J⁻³ s⁻¹] (:func:`glassfit.observables.scattering.relaxation_constant`)."""
    T, t = _grid(T, t)
    kT = _K * T[..., None]
    tau_min = np.tanh(X_NODES / 2.0) / (expand(K_tau, T.ndim + 1) * (kT * X_NODES) ** 3)
    n = expand(P0, T.ndim + 1) * relaxed_fraction(t[..., None] / tau_min, window)
    return _K**2 * T * np.sum(n * X_WEIGHTS, axis=-1)


def black_asymptote(T, t, P0, K_tau, window="step"):
    """(π²/12) P̄ k² T [ln(4t/τ_min(E*)) (+ γ_E for the exponential window)], E* = 2.9359 kT (physics.md §7.1)."""
    T, t = _grid(T, t)
    tau_star = np.tanh(X_STAR / 2.0) / (K_tau * (_K * T * X_STAR) ** 3)
    extra = np.euler_gamma if window == "exponential" else 0.0
    return np.pi**2 / 12.0 * P0 * _K**2 * T * (np.log(4.0 * t / tau_star) + extra)


def _relaxing_tls(u_tilde, scales, distribution, chi, rho, v_l, v_t, barrier_max, every: bool = True):
    """Per KKI type, at each ũ = u/w: the density of each distinct TLS [J⁻¹ m⁻³] and its rate at T = 0 [1/s],
    shapes (K, M) (:func:`glassfit.density.distinct_tls`); unless ``every``, only the TLS that relax
    (:meth:`~glassfit.density.DistinctTLS.relaxing`)."""
    u = np.asarray(u_tilde, float)[:, None] * expand(scales.w, 2)
    types = distinct_tls(quadrature_for(u_tilde, barrier_max, n_panels=_PANELS), scales, distribution)
    types = types if every else [tls.relaxing() for tls in types]
    return [(tls.density, kki_rate_at_zero_temperature(u, tls.x_ge2, *(expand(c, 2) for c in (
        chi["l"][j], chi["t"][j], rho, v_l, v_t)))) for j, tls in enumerate(types)]


def _window(t_over_tau, window):
    """The relaxed share of TLS with t/τ = ``t_over_tau`` (overwritten by the exponential window)."""
    if window == "step":
        return (t_over_tau >= 1.0).astype(float)
    np.negative(t_over_tau, out=t_over_tau)
    np.expm1(t_over_tau, out=t_over_tau)
    return np.negative(t_over_tau, out=t_over_tau)


def _check_window(window):
    if window not in WINDOWS:
        raise ValueError(f"window must be one of {WINDOWS}, got {window!r}")


def kki_heat_capacity(T, t, scales, distribution, chi, rho, v_l, v_t, window="exponential", barrier_max=None):
    """KKI c(T, t) [J m⁻³ K⁻¹]: every TLS with its exact splitting and exact one-phonon τ (physics.md §7.2).

    ``chi`` = {"l": (χ_1, χ_2), "t": (χ_1, χ_2)} in J per unit y (as :func:`kki_relaxation`); ρ [kg/m³],
    v [m/s].  As t → ∞ this is c_TLS(T) of :func:`glassfit.observables.heat.kki_tls_heat_capacity`.
    """
    _check_window(window)
    T, t = _grid(T, t)
    per_type = _relaxing_tls(U_TILDE_GRID, scales, distribution, chi, rho, v_l, v_t, barrier_max, every=False)
    batch = np.broadcast_shapes(*(a.shape[:-2] for pair in per_type for a in pair))        # () or (B,)
    u = expand(scales.w, 1) * U_TILDE_GRID                                              # (K,), a batch (B, K)
    T_pts, t_pts = T.ravel(), t.ravel()
    sums = np.zeros((*batch, T_pts.size, U_TILDE_GRID.size))
    # the points of one T a slice at a time, so that the (sets, points, K, M) temporaries stay in the cache
    step = max(1, CACHE_ELEMENTS // (int(np.prod(batch)) * int(np.prod(per_type[0][0].shape[-2:]))))
    for T_i in np.unique(T_pts):
        coth = 1.0 / np.tanh(u / (2.0 * _K * T_i))
        rates = [rate0 * coth[..., None] for _, rate0 in per_type]
        same_T = np.nonzero(T_pts == T_i)[0]
        for start in range(0, same_T.size, step):
            at = same_T[start:start + step]
            for (dens, _), rate in zip(per_type, rates, strict=True):
                with np.errstate(over="ignore"):                                        # t/τ → ∞: weight 1
                    t_over_tau = t_pts[at, None, None] * rate[..., None, :, :]          # (n_t, K, M)
                sums[..., at, :] += np.einsum("...km,...pkm->...pk", dens, _window(t_over_tau, window))
    n_relaxed = EnergyCurves(U_TILDE_GRID, sums, scales.w, points=1)                   # one curve per point
    out = _K**2 * T_pts * np.einsum("...x,x->...", n_relaxed(X_NODES * _K * T_pts[:, None]), X_WEIGHTS)
    return out.reshape(batch + T.shape)


def relaxed_fraction_kki(u, t, T, scales, distribution, chi, rho, v_l, v_t, window="step", barrier_max=None):
    """Fraction of the TLS of energy u [J] of each KKI type relaxed within t [s] at T [K], shape (2, n_u, n_t).

    With the step window this is the cumulative distribution ∫_0^t p_j(τ|u) dτ of the exact relaxation
    times (physics.md §7.2); TLS beyond the barrier cutoff are excluded from numerator and denominator.
    """
    _check_window(window)
    u = positive_array("u", u, "energies u (J)").ravel()
    t = positive_array("t", t, "measurement times t (s)").ravel()
    T = positive_scalar("T", T)
    per_type = _relaxing_tls(u / scales.w, scales, distribution, chi, rho, v_l, v_t, barrier_max)
    coth = 1.0 / np.tanh(u / (2.0 * _K * T))
    out = []
    for dens, rate0 in per_type:
        with np.errstate(over="ignore"):
            t_over_tau = t[:, None, None] * (rate0 * coth[:, None])[None]                  # (n_t, n_u, M)
        relaxed = np.sum(dens * _window(t_over_tau, window), axis=-1).T                    # (n_u, n_t)
        total = np.sum(dens, axis=-1)[:, None]
        out.append(np.divide(relaxed, total, out=np.zeros_like(relaxed), where=total > 0))
    return np.stack(out)


# ---------------------------------------------------------------------------
# The reconstructed closed form (6.2)/(6.3): a reference and a tool for speed studies
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class KKITimeScales:
    """The time scales of the KKI law at temperature T (physics.md §7.2); ``tau_min`` has a last axis j = 1, 2.

    ``tau_min`` [s]: τ of the symmetric TLS of energy E* = 2.9359 kT (J = E*), per type; ``barrier``: its A_b;
    ``sigma0`` = ln(w/kT), so that ``obs`` = OBS(T) = 2 ln(w/kT) as KKI state below (6.3); ``sigma_max``: S0 at
    the barrier cutoff (saturation is complete at ln(t/τ_min) ≈ 2(σ_max − σ0)); ``crossover`` = τ̃ =
    e^OBS τ_min = (w/kT)² τ_min [s], where the law leaves Black's.
    """

    tau_min: np.ndarray
    barrier: np.ndarray
    sigma0: np.ndarray
    sigma_max: float

    @property
    def obs(self):
        return 2.0 * self.sigma0

    @property
    def crossover(self):
        return np.exp(self.obs)[..., None] * self.tau_min


def kki_time_scales(T, scales, chi, rho, v_l, v_t, barrier_max=None) -> KKITimeScales:
    """τ_min(E*) [s], σ0 and OBS(T) of (6.2)/(6.3); T [K], chi as in :func:`kki_heat_capacity`.

    |x_ge|² of the symmetric doublet is (δy_eff/2)², so 1/τ_min is the exact one-phonon rate
    (:func:`glassfit.observables.scattering.kki_relaxation_rate`) of that TLS.  σ0 = ln(w/kT) rather than the
    barrier action at E*: with it the closed form's time dependence follows the production form within 6 %
    (``tests/test_timeheat.py``); the action (σ0 ≈ 8–18 at 0.05–0.3 K) makes the slope fall 20–25 % too slowly.
    """
    T = positive_array("T", T, "temperatures T (K)")
    u = X_STAR * _K * T
    u_tilde = u / scales.w
    if np.any(u_tilde >= U_TILDE_MAX):
        raise ValueError(f"kT must be below {U_TILDE_MAX / X_STAR:.3g} w for a two-level description")
    tables = default_tables()
    a_star = threshold_barrier(tables, u_tilde.ravel()).reshape(u.shape)
    dy_eff = tables.doublet(a_star.ravel(), np.zeros(a_star.size))[2].reshape(u.shape)
    coth = 1.0 / np.tanh(X_STAR / 2.0)
    tau_min = np.stack([1.0 / (coth * kki_rate_at_zero_temperature(u, (dy_eff / 2.0) ** 2, chi["l"][j], chi["t"][j],
                                                                      rho, v_l, v_t)) for j in (0, 1)], axis=-1)
    top = A_B_TAIL if barrier_max is None else float(barrier_max)
    return KKITimeScales(tau_min, a_star, np.log(scales.w / (_K * T)), float(instanton_action(top)))


def tau_density(tau, tau_min, obs):
    """The reconstructed p_j(τ|u) of KKI eq. (6.2) [1/s], normalised over τ ≥ τ_min without a cutoff:

        p dτ = (dτ/2τ) (1 − τ_min/τ)^(−1/2) [1 + ln(τ/τ_min)/OBS]^(−4/3) / Z,

    with Z = ∫ the same from τ_min to ∞ (≈ 3 OBS/2 for OBS ≫ 1; computed by quadrature).  τ, τ_min [s].
    """
    tau = positive_array("tau", tau, "relaxation times tau (s)")
    tau_min, obs = positive_scalar("tau_min", tau_min), positive_scalar("obs", obs)
    ratio = np.maximum(tau / tau_min, 1.0)
    density = np.where(tau > tau_min, 0.5 / tau / np.sqrt(np.maximum(1.0 - 1.0 / ratio, 1e-300))
                       * (1.0 + np.log(ratio) / obs) ** (-4.0 / 3.0), 0.0)
    return density / _tau_density_norm(obs)


def _tau_density_norm(obs):
    """Z(OBS) = ∫_0^∞ ds (1 − e^(−2s))^(−1/2) (1 + 2s/OBS)^(−4/3), s = ½ ln(τ/τ_min).

    With z = (1 + 2s/OBS)^(−1/3): Z = (3 OBS/2) ∫_0^1 dz (1 − e^(−2s))^(−1/2), a square-root end point at z = 1.
    """
    z, w_dz, sqrt_1mz = unit_interval_nodes(1e-12, 8, order=32)
    s = 0.5 * obs * sqrt_1mz**2 * (1.0 + z + z * z) / z**3                # (OBS/2)(z⁻³ − 1) without cancellation
    return float(1.5 * obs * np.sum(w_dz / np.sqrt(-np.expm1(-2.0 * s))))


def kki_closed_form(T, t, scales, distribution, chi, rho, v_l, v_t, window="exponential", barrier_max=None):
    """KKI c(T, t) [J m⁻³ K⁻¹] from the reconstructed closed form (6.3), summed over both types:

        c_j = (π²/6) k² T · 3 K_σ (η_L ξ_L f_j*/w) [σ0^(−1/3) − σ_j(t)^(−1/3)],   K_σ = (8/9)(3/√2)^(2/3),
        σ_j(t) = min(σ0 [1 + ln(4t/τ_min,j)/OBS], σ_max),   OBS = 2σ0 = 2 ln(w/kT)

    (ln(4t/τ_min) + γ_E with the exponential window; 0 for t < τ_min/4), f_j* = f at the symmetric threshold
    well of type j (flat h, g assumed; physics.md §3.2, §7.2).  A reference and a tool for speed studies
    (≈ 0.2 ms per temperature): against the production form :func:`kki_heat_capacity` (flat h, g) its slope
    dc/d ln t follows within 6 % for 5 ≤ ln(4t/τ_min) ≤ 30, and its amplitude is 16–20 % high.
    """
    _check_window(window)
    T, t = _grid(T, t)
    distribution = as_distribution(distribution)
    T_unique, where = np.unique(T, return_inverse=True)                       # the scales depend on T only
    times = kki_time_scales(T_unique, scales, chi, rho, v_l, v_t, barrier_max)
    alpha1, beta1, _ = type1_from_barrier_frame(times.barrier, np.zeros_like(times.barrier))
    f_star = np.stack([distribution(scales.eta_L * alpha1, scales.xi_L * beta1),
                       distribution(-scales.eta_L * times.barrier, np.zeros_like(times.barrier))], axis=-1)
    where = where.reshape(T.shape)
    f_star, tau_min, sigma0 = f_star[where], times.tau_min[where], times.sigma0[where][..., None]
    extra = np.euler_gamma if window == "exponential" else 0.0
    log_t = np.maximum(np.log(4.0 * t[..., None]) - np.log(tau_min) + extra, 0.0)
    sigma_t = np.minimum(sigma0 * (1.0 + log_t / (2.0 * sigma0)), times.sigma_max)
    n_relaxed = 3.0 * K_SIGMA * scales.eta_L * scales.xi_L * f_star / scales.w * (
        sigma0 ** (-1.0 / 3.0) - sigma_t ** (-1.0 / 3.0))
    return np.pi**2 / 6.0 * _K**2 * T * np.sum(n_relaxed, axis=-1)


__all__ = ["K_SIGMA", "WINDOWS", "X_STAR", "KKITimeScales", "black_asymptote", "black_heat_capacity",
           "kki_closed_form", "kki_heat_capacity", "kki_time_scales", "relaxed_fraction", "relaxed_fraction_kki",
           "tau_density"]
