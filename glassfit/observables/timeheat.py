"""The TLS ensemble in the time domain: the specific heat c(T, t) and the heat release Q̇(t) (physics.md §7).

A measurement of duration t sees only the two-level systems that relax within t.  With a step window
(relaxed iff τ ≤ t) or an exponential one (weight 1 − e^(−t/τ)):

* **Black / STM** (Black 1978; KKI eq. 6.1): τ = τ_min(E) E²/Δ0², τ_min(E) = [K_τ E³ coth(E/2kT)]⁻¹,
  n(E, t) = P̄ arcsech(sqrt(τ_min/t)) (step) → (P̄/2) ln(4t/τ_min) for t ≫ τ_min, and
  c(T, t) → (π²/12) P̄ k² T ln(4t/τ_min(E*)), E* = 2.9359 kT; the exponential window adds Euler's γ.
* **KKI** (physics.md §7.2, production form): every (η, ξ) of the iso-energy quadrature with its exact
  splitting and its exact one-phonon rate τ⁻¹ (:func:`glassfit.observables.scattering.kki_relaxation_rate`,
  |x_ge|² of the exact eigenvectors), c(T, t) = ∫ du k (u/2kT)² sech²(u/2kT) Σ_TLS(u) W(t/τ).
  As t → ∞ every weight → 1 and c(T, t) → c_TLS(T).

Heat release (physics.md §7.3): TLS in equilibrium at T₁ until t = 0, the bath at T₀ < T₁ from then on.  A TLS of
energy E and relaxation time τ (at T₀) gives back E [f(E/kT₁) − f(E/kT₀)] e^(−t/τ)/τ per unit time, f(x) =
1/(eˣ + 1) the upper level's occupation, so Q̇(t) = Σ_TLS E [f₁ − f₀] e^(−t/τ)/τ:

* **STM**: with P(E, τ) = P̄/(2τ sqrt(1 − τ_min/τ)), Q̇ = (P̄/2t) ∫ dE E [f₁ − f₀] H(t/τ_min(E, T₀)), H(z) =
  2√z D(√z) (D Dawson's integral; H → 1 for z ≫ 1, 2z for z ≪ 1), → (π²/24) P̄ k² (T₁² − T₀²)/t (Parshin & Sahling);
* **KKI**: every TLS of the iso-energy quadrature with its exact rate, as for c(T, t).

Units: T [K], t [s], c [J m⁻³ K⁻¹], Q̇ [W m⁻³].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.interpolate import CubicSpline
from scipy.special import dawsn, exp1

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
from glassfit.quadrature import gauss_legendre_panels, unit_interval_nodes
from glassfit.tables import default_tables
from glassfit.validation import positive_array, positive_scalar

_K = constants.k_B
#: x* = E*/kT of Black's asymptote: ⟨ln(x³ coth(x/2))⟩ over (x/2)² sech²(x/2) (physics.md §7.1)
X_STAR = 2.9358970925208516
#: K_σ = (8/9)(3/√2)^(2/3) of the flat-distribution closed form n_j(u) (physics.md §3.2)
K_SIGMA = 8.0 / 9.0 * (3.0 / np.sqrt(2.0)) ** (2.0 / 3.0)
WINDOWS = ("step", "exponential")
#: nodes x = E/kT and weights of ∫_0^∞ dx x f(x) g(x), f(x) = 1/(eˣ + 1): Σ RELEASE_WEIGHTS = π²/12 (physics.md §7.3)
RELEASE_NODES, _RW = gauss_legendre_panels((0.0, 2.0, 6.0, 14.0, 30.0, 60.0))
RELEASE_WEIGHTS = _RW * RELEASE_NODES / (np.exp(RELEASE_NODES) + 1.0)
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


#: Gauss–Legendre nodes on [0, 1] for the smooth parts of the cutoff integrals (physics.md §7.1)
_GL_X, _GL_W = gauss_legendre_panels((0.0, 1.0), order=32)


def _ein(x):
    """Ein(x) = ∫_0^x (1 − e^(−y))/y dy = E₁(x) + ln x + γ_E (its series below 1e-4, where that cancels)."""
    x = np.asarray(x, float)
    safe = np.maximum(x, 1e-4)
    return np.where(x < 1e-4, x * (1.0 - x / 4.0 + x * x / 18.0), exp1(safe) + np.log(safe) + np.euler_gamma)


def cutoff_relaxed_fraction(z, a):
    """n(E, t)/P̄ of the STM with the exponential window and q = (Δ0/E)² ≥ a (physics.md §7.1), z = t/τ_min(E):
    ½ ∫_a^1 (1 − e^(−zq)) dq/(q sqrt(1 − q)), for 0 < a < 1.

    For a ≤ ½ it is the uncut :func:`relaxed_fraction` minus D(z, a) = ½ ∫_0^a, and with φ(q) = (1/sqrt(1 − q) − 1)/q
    (smooth, ∫_0^a φ = −2 ln((1 + sqrt(1 − a))/2)), D = ½ Ein(za) + ½ [∫_0^a φ − ∫_0^a e^(−zq) φ dq], the last on 32
    nodes over [0, min(a, 50/z)].  For a > ½: q = 1 − s², ½ ∫ = ∫_0^sqrt(1−a) (1 − e^(−z(1 − s²)))/(1 − s²) ds.
    """
    z, a = np.broadcast_arrays(np.asarray(z, float), np.asarray(a, float))
    out = np.empty(z.shape)
    low = a <= 0.5
    zl, al = z[low], a[low]
    top = np.minimum(al, 50.0 / np.maximum(zl, 1e-300))[..., None]
    q = top * _GL_X
    root = np.sqrt(1.0 - q)
    phi = 1.0 / (root * (1.0 + root))
    tail = np.sum(top * _GL_W * np.exp(-zl[..., None] * q) * phi, axis=-1)
    d = 0.5 * _ein(zl * al) + 0.5 * (-2.0 * np.log((1.0 + np.sqrt(1.0 - al)) / 2.0) - tail)
    out[low] = relaxed_fraction(zl, "exponential") - d
    zh, ah = z[~low], a[~low]
    s_top = np.sqrt(1.0 - ah)[..., None]
    s = s_top * _GL_X
    out[~low] = np.sum(s_top * _GL_W * -np.expm1(-zh[..., None] * (1.0 - s * s)) / (1.0 - s * s), axis=-1)
    return out


def cutoff_release_rate(z, a):
    """τ_min/P̄ times the heat-release rate density of the STM TLS of one energy with q ≥ a (physics.md §7.3):
    ½ ∫_a^1 e^(−zq) dq/sqrt(1 − q) = e^(−za) D(sqrt(z(1 − a)))/sqrt(z), D Dawson's integral; = H(z)/(2z) at a = 0."""
    z, a = np.asarray(z, float), np.asarray(a, float)
    return np.exp(-z * a) * dawsn(np.sqrt(z * (1.0 - a))) / np.sqrt(z)


def _cutoff_energies(T, D0_min):
    """Energies x kT of the heat-capacity quadrature (x = X_NODES) and q_min = (Δ0,min/E)² at each, clipped
    below 1 (there are no TLS with E < Δ0,min: their nodes get zero weight)."""
    E = _K * T[..., None] * X_NODES
    q_min = (expand(D0_min, T.ndim + 1) / E) ** 2
    return E, np.minimum(q_min, 1.0 - 1e-12), q_min < 1.0


def black_cutoff_heat_capacity(T, t, P0, K_tau, D0_min, window="step"):
    """STM c(T, t) [J m⁻³ K⁻¹] with a smallest tunnel splitting Δ0,min [J] (a largest λ: physics.md §7.1):
    n(E, t) = (P̄/2) ∫_{q_min}^1 dq W(t q/τ_min(E))/(q sqrt(1 − q)), q_min = (Δ0,min/E)², W the window; the
    relaxation times stop at τ_max(E) = τ_min(E) (E/Δ0,min)², so c(T, t) saturates at the cutoff's equilibrium
    n(E) = P̄ arcsech(Δ0,min/E) = P̄ ln(2E/Δ0,min) (for Δ0,min ≪ E).  P0 [J⁻¹ m⁻³], K_tau [J⁻³ s⁻¹]."""
    _check_window(window)
    T, t = _grid(T, t)
    E, q_min, exists = _cutoff_energies(T, D0_min)
    tau_min = np.tanh(E / (2.0 * _K * T[..., None])) / (expand(K_tau, T.ndim + 1) * E**3)
    if window == "step":                 # relaxed iff q ≥ τ_min/t: P̄ arcsech(sqrt(q*)), q* = max(q_min, τ_min/t)
        q_star = np.maximum(q_min, tau_min / t[..., None])
        relaxed = np.where(exists & (q_star < 1.0), relaxed_fraction(1.0 / np.minimum(q_star, 1.0)), 0.0)
    else:
        relaxed = np.where(exists, cutoff_relaxed_fraction(t[..., None] / tau_min, q_min), 0.0)
    return _K**2 * T * np.sum(expand(P0, T.ndim + 1) * relaxed * X_WEIGHTS, axis=-1)


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


# ---------------------------------------------------------------------------
# Heat release after a quench T₁ → T₀ (physics.md §7.3)
# ---------------------------------------------------------------------------

def _quench(t, T0, T1):
    """t, T₀, T₁ broadcast together; ValueError unless every T₁ > T₀ > 0 and t > 0."""
    t, T0, T1 = np.broadcast_arrays(positive_array("t", t, "times t after the quench (s)"),
                                    positive_array("T", T0, "bath temperatures T (K)"),
                                    positive_array("T1", T1, "temperatures T1 before the quench (K)"))
    if np.any(T1 <= T0):
        raise ValueError("the heat release needs T1 > T (the temperature before the quench above the bath's)")
    return t, T0, T1


def release_kernel(z):
    """H(z) = z ∫_0^1 e^(−zq) (1 − q)^(−1/2) dq = 2√z D(√z), D Dawson's integral (physics.md §7.3): the heat the
    STM TLS of one energy release at t = z τ_min, per P̄/(2t); → 1 for z ≫ 1, 2z for z ≪ 1."""
    root = np.sqrt(np.asarray(z, float))
    return 2.0 * root * dawsn(root)


def black_heat_release(t, T, T1, P0, K_tau):
    """STM heat release Q̇ [W m⁻³] at t [s] after a quench from T1 [K] to the bath T [K] (physics.md §7.3):
    (P̄/2t) Σ_i ± (kT_i)² ∫ dx x f(x) H(t/τ_min(x kT_i, T)), τ_min(E, T) = tanh(E/2kT)/(K_τ E³); P0 [J⁻¹ m⁻³],
    K_tau [J⁻³ s⁻¹]."""
    t, T0, T1 = _quench(t, T, T1)
    ndim = t.ndim + 1
    K_tau = expand(K_tau, ndim)
    total = 0.0
    for sign, T_i in ((1.0, T1), (-1.0, T0)):
        E = _K * T_i[..., None] * RELEASE_NODES
        z = t[..., None] * K_tau * E**3 / np.tanh(E / (2.0 * _K * T0[..., None]))
        total = total + sign * (_K * T_i) ** 2 * np.sum(RELEASE_WEIGHTS * release_kernel(z), axis=-1)
    return expand(P0, t.ndim) * total / (2.0 * t)


def black_release_asymptote(t, T, T1, P0):
    """(π²/24) P̄ k² (T1² − T²)/t [W m⁻³]: the STM heat release once t ≫ τ_min at every energy (physics.md §7.3)."""
    t, T0, T1 = _quench(t, T, T1)
    return np.pi**2 / 24.0 * expand(P0, t.ndim) * _K**2 * (T1**2 - T0**2) / t


def black_cutoff_heat_release(t, T, T1, P0, K_tau, D0_min):
    """STM heat release Q̇ [W m⁻³] with a smallest tunnel splitting Δ0,min [J] (physics.md §7.3): as
    :func:`black_heat_release` with the q = (Δ0/E)² integral from q_min = (Δ0,min/E)²,
    Q̇ = ∫ dE E [f₁ − f₀] (P̄/2) ∫_{q_min}^1 dq (q/τ_min) e^(−tq/τ_min)/(q sqrt(1 − q)); it falls faster than 1/t
    once t passes τ_max(E) = τ_min(E) (E/Δ0,min)²."""
    t, T0, T1 = _quench(t, T, T1)
    total = 0.0
    for sign, T_i in ((1.0, T1), (-1.0, T0)):
        E = _K * T_i[..., None] * RELEASE_NODES
        q_min = (expand(D0_min, t.ndim + 1) / E) ** 2
        rate_min = expand(K_tau, t.ndim + 1) * E**3 / np.tanh(E / (2.0 * _K * T0[..., None]))     # 1/τ_min
        per_energy = np.where(q_min < 1.0, rate_min * cutoff_release_rate(t[..., None] * rate_min,
                                                                          np.minimum(q_min, 1.0)), 0.0)
        total = total + sign * (_K * T_i) ** 2 * np.sum(RELEASE_WEIGHTS * per_energy, axis=-1)
    return expand(P0, t.ndim) * total


def kki_heat_release(t, T, T1, scales, distribution, chi, rho, v_l, v_t, barrier_max=None):
    """KKI heat release Q̇ [W m⁻³] at t [s] after a quench from T1 [K] to the bath T [K]: every TLS with its
    exact splitting and exact one-phonon rate at the bath temperature (physics.md §7.3); ``chi`` as in
    :func:`kki_heat_capacity`; one w [J] (a number), every other input a number or a batch of P sets.

    The TLS are taken at the quadrature energies themselves, E = x kT_i for both temperatures of each quench:
    Q̇ = Σ_i ± (kT_i)² Σ_x RELEASE_WEIGHTS Σ_TLS(E) dens e^(−t/τ)/τ.  (Interpolating Σ_TLS on the energy grid of
    c(T, t) instead errs by up to 13 % at long times, where few, deep TLS remain.)  The TLS of every temperature
    of the data are found in one pass; result shape (*batch, *t.shape).
    """
    t, T0, T1 = _quench(t, T, T1)
    if np.ndim(scales.w):
        raise ValueError("kki_heat_release takes one w (a number); evaluate sets of different w one at a time")
    temperatures = np.unique(np.concatenate([T0.ravel(), T1.ravel()]))
    # E = x kT_i below the iso-energy grid's top (beyond: weight < e^(−20) for kT ≤ w/25)
    inside = [RELEASE_NODES * _K * T_i <= U_TILDE_MAX * scales.w for T_i in temperatures]
    u = np.concatenate([RELEASE_NODES[mask] * _K * T_i for mask, T_i in zip(inside, temperatures, strict=True)])
    ends = np.cumsum([0, *(int(mask.sum()) for mask in inside)])
    per_type = _relaxing_tls(u / scales.w, scales, distribution, chi, rho, v_l, v_t, barrier_max, every=False)
    batch = np.broadcast_shapes(*(a.shape[:-2] for pair in per_type for a in pair))        # () or (P,)
    out = np.zeros((*batch, t.size))
    t_flat, pairs = t.ravel(), np.stack([T0.ravel(), T1.ravel()], axis=1)
    for T0_i, T1_i in np.unique(pairs, axis=0):
        at = np.nonzero((pairs[:, 0] == T0_i) & (pairs[:, 1] == T1_i))[0]
        for sign, T_i in ((1.0, T1_i), (-1.0, T0_i)):
            k = int(np.searchsorted(temperatures, T_i))
            energies = slice(ends[k], ends[k + 1])
            coth = 1.0 / np.tanh(u[energies] / (2.0 * _K * T0_i))
            for dens, rate0 in per_type:
                rate = rate0[..., energies, :] * coth[:, None]                                # (*batch, x, M)
                weights = dens[..., energies, :] * rate * RELEASE_WEIGHTS[inside[k], None]
                step = max(1, CACHE_ELEMENTS // rate.size)
                for start in range(0, at.size, step):
                    points = at[start:start + step]
                    decay = np.exp(-t_flat[points, None, None] * rate[..., None, :, :])      # (*batch, n, x, M)
                    out[..., points] += sign * (_K * T_i) ** 2 * np.einsum("...xm,...pxm->...p", weights, decay)
    return out.reshape(batch + t.shape)


__all__ = [
    "K_SIGMA",
    "RELEASE_NODES",
    "RELEASE_WEIGHTS",
    "WINDOWS",
    "X_STAR",
    "KKITimeScales",
    "black_asymptote",
    "black_heat_capacity",
    "black_heat_release",
    "black_release_asymptote",
    "kki_closed_form",
    "kki_heat_capacity",
    "kki_heat_release",
    "kki_time_scales",
    "relaxed_fraction",
    "relaxed_fraction_kki",
    "release_kernel",
    "tau_density",
]
