import itertools

import numpy as np
import pytest
from scipy.integrate import quad, quad_vec
from scipy.optimize import brentq

from glassfit import constants
from glassfit.density import tls_density
from glassfit.distributions import KKIDistribution
from glassfit.observables.heat import kki_tls_heat_capacity
from glassfit.observables.scattering import relaxation_constant
from glassfit.observables.timeheat import (
    K_SIGMA,
    RELEASE_WEIGHTS,
    X_STAR,
    black_asymptote,
    black_cutoff_heat_capacity,
    black_cutoff_heat_release,
    black_heat_capacity,
    black_heat_release,
    black_release_asymptote,
    cutoff_relaxed_fraction,
    cutoff_release_rate,
    kki_closed_form,
    kki_heat_capacity,
    kki_heat_release,
    kki_time_scales,
    relaxed_fraction,
    relaxed_fraction_kki,
    release_kernel,
    tau_density,
)
from glassfit.potential import PotentialScales

K, EV = constants.k_B, constants.eV
K_TAU = relaxation_constant(1.0 * EV, 0.65 * EV, 2200.0, 5800.0, 3750.0)
P0 = 1e45


def test_effective_energy():
    # physics.md §7.1: ⟨ln(x³ coth(x/2))⟩ over (x/2)² sech²(x/2) = ln(x*³ coth(x*/2)), x* = 2.9359; and
    # ln(4t/τ_min(E*)) = ln(4 t K_τ (kT)³) + 3.3373
    def weight(x):
        return (x / 2) ** 2 / np.cosh(x / 2) ** 2
    mean = quad(lambda x: weight(x) * np.log(x**3 / np.tanh(x / 2)), 0, 80)[0] / (np.pi**2 / 6)
    assert brentq(lambda x: np.log(x**3 / np.tanh(x / 2)) - mean, 1, 5) == pytest.approx(X_STAR, rel=1e-9)
    assert X_STAR == pytest.approx(2.9359, abs=1e-4)
    assert np.log(X_STAR**3 / np.tanh(X_STAR / 2)) == pytest.approx(3.3373, abs=1e-4)


def test_black_logarithm_slope_and_asymptote():
    T = 0.2
    tau_kT = 1 / (K_TAU * (K * T) ** 3)
    t = tau_kT * np.exp(np.array([8.0, 10.0, 14.0]))            # ln(t K_τ (kT)³) ≥ 5
    c = black_heat_capacity(T, t, P0, K_TAU)
    np.testing.assert_allclose(c, black_asymptote(T, t, P0, K_TAU), rtol=1e-4)
    slope = np.pi**2 / 12 * P0 * K**2 * T
    np.testing.assert_allclose(np.diff(c) / np.diff(np.log(t)), slope, rtol=1e-4)


def test_exponential_window_adds_euler_gamma():
    T, t = 0.1, 1e3
    c = black_heat_capacity(T, t, P0, K_TAU, window="exponential")
    assert c == pytest.approx(black_asymptote(T, t, P0, K_TAU, window="exponential"), rel=1e-4)
    diff = c - black_heat_capacity(T, t, P0, K_TAU, window="step")
    assert diff == pytest.approx(np.pi**2 / 12 * P0 * K**2 * T * np.euler_gamma, rel=1e-3)


def test_relaxed_fraction_limits():
    assert relaxed_fraction(0.5) == 0.0 and relaxed_fraction(1.0) == 0.0
    assert relaxed_fraction(1e8) == pytest.approx(0.5 * np.log(4e8), rel=1e-9)
    assert relaxed_fraction(1e-4, "exponential") == pytest.approx(1e-4, rel=1e-3)
    with pytest.raises(ValueError, match="window"):
        relaxed_fraction(1.0, "box")


def _kki():
    scales = PotentialScales(22.6 * K, 0.0442, 0.2102, 1.0)
    chi = {"l": (3 * EV, 3 * EV), "t": (1.8 * EV, 1.8 * EV)}
    return scales, KKIDistribution(0.8, 1.2, 1e27), chi


def test_kki_is_monotone_bounded_and_tends_to_equilibrium():
    scales, dist, chi = _kki()
    T = 0.1
    t = np.geomspace(1e-8, 1e6, 15)
    c = kki_heat_capacity(T, t, scales, dist, chi, 1200.0, 3000.0, 1500.0)
    c_eq = kki_tls_heat_capacity(T, scales, dist)
    assert np.all(np.diff(c) > 0)
    assert np.all(c < c_eq)
    c_inf = kki_heat_capacity(T, 1e300, scales, dist, chi, 1200.0, 3000.0, 1500.0)
    # all but the deepest wells (A_b > 40: J̃ < 1e-49, τ = ∞) have relaxed: a shortfall of 1.4e-6 here
    assert c_inf / c_eq - 1 == pytest.approx(-1.40e-6, abs=0.05e-6)


def test_bad_inputs():
    scales, dist, chi = _kki()
    with pytest.raises(ValueError, match="times t"):
        black_heat_capacity(0.1, -1.0, P0, K_TAU)
    with pytest.raises(ValueError, match="window"):
        kki_heat_capacity(0.1, 1.0, scales, dist, chi, 1200.0, 3000.0, 1500.0, window="box")


# ---------------------------------------------------------------------------
# The reconstructed closed form (6.2)/(6.3) against the production form (physics.md §7.2)
# ---------------------------------------------------------------------------

FLAT = KKIDistribution(1e3, 1e3, 1e27)        # h, g flat over every TLS: the assumption of (6.3)
CUTOFF = 40.0


def _production_and_closed(T, L):
    scales, _, chi = _kki()
    times = kki_time_scales(T, scales, chi, 1200.0, 3000.0, 1500.0, CUTOFF)
    t = times.tau_min[0] * np.exp(L) / 4                 # ln(4t/τ_min) = L (χ_1 = χ_2: one τ_min)
    args = (scales, FLAT, chi, 1200.0, 3000.0, 1500.0)
    c = kki_heat_capacity(T, t, *args, barrier_max=CUTOFF)
    return times, c, kki_closed_form(T, t, *args, barrier_max=CUTOFF)


@pytest.mark.parametrize("T", [0.05, 0.1, 0.3])
def test_kki_slope_ratio_follows_the_closed_form(T):
    # (dc/d ln t)/(Black slope) = [1 + ln(4t/τ_min)/OBS]^(−4/3): measured relative to the slope at
    # ln(4t/τ_min) = 5 so the amplitude drops out; OBS = 2 ln(w/kT).  Measured: within 6 % for 5..30.
    L = np.linspace(4.5, 30.5, 27)
    times, c, _ = _production_and_closed(T, L)
    slope = ((c[2:] - c[:-2]) / (L[2:] - L[:-2]))[::5]                 # central differences at L = 5, 10, .., 30
    law = (1 + (L[1:-1:5] + np.euler_gamma) / times.obs) ** (-4 / 3)
    np.testing.assert_allclose(slope / slope[0], law / law[0], rtol=0.07)
    # ...while Black's law (a constant slope) is off by a factor 2–3 at the end
    assert slope[-1] / slope[0] < 0.5


def test_kki_closed_form_amplitude_and_black_slope_at_short_times():
    # with OBS = 2 ln(w/kT) the closed form is 16–20 % above the production form once ln(4t/τ_min) ≥ 5
    L = np.linspace(5.0, 30.0, 6)
    for T in (0.05, 0.3):
        _, c, closed = _production_and_closed(T, L)
        ratio = c / closed
        assert np.all((ratio > 0.78) & (ratio < 0.88)), ratio
        assert np.ptp(ratio) < 0.04                      # the same time dependence
    # Black's slope at short t: the closed form's is (π²/12) P̄_eff k² T [1 + (L + γ_E)/OBS]^(−4/3) with
    # P̄_eff = Σ_j K_σ (η_L ξ_L f_j*/w) σ0^(−4/3); the production slope at L = 5 is 0.88 of it (measured,
    # 0.05–0.3 K), the same offset as the amplitude
    scales, _, _ = _kki()
    for T in (0.05, 0.1, 0.3):
        times, c, closed = _production_and_closed(T, np.array([4.5, 5.5]))
        p_eff = 2 * K_SIGMA * scales.eta_L * scales.xi_L * FLAT(0.0, 0.0) / scales.w * times.sigma0 ** (-4 / 3)
        black = np.pi**2 / 12 * p_eff * K**2 * T * (1 + (5 + np.euler_gamma) / times.obs) ** (-4 / 3)
        assert (closed[1] - closed[0]) == pytest.approx(black, rel=2e-3)       # flat f: f* = f(0, 0)
        assert (c[1] - c[0]) / black == pytest.approx(0.88, abs=0.04)


def test_closed_form_limits():
    scales, _, chi = _kki()
    args = (scales, FLAT, chi, 1200.0, 3000.0, 1500.0)
    times = kki_time_scales(0.1, scales, chi, 1200.0, 3000.0, 1500.0)
    assert times.obs == pytest.approx(2 * np.log(22.6 / 0.1), rel=1e-12)
    np.testing.assert_allclose(times.crossover, (22.6 / 0.1) ** 2 * times.tau_min, rtol=1e-12)
    # nothing has relaxed before τ_min/4; monotone; bounded by the cutoff as t → ∞
    assert kki_closed_form(0.1, times.tau_min[0] / 8, *args, window="step") == 0.0
    c = kki_closed_form(0.1, np.geomspace(1e-9, 1e300, 30), *args, barrier_max=CUTOFF)
    assert np.all(np.diff(c) >= 0) and c[-1] == c[-2]
    with pytest.raises(ValueError, match="below"):
        kki_time_scales(100.0, scales, chi, 1200.0, 3000.0, 1500.0)


def test_tau_density_is_normalised_and_matches_its_cdf():
    tau_min, obs = 1e-6, 12.0
    def per_s(s):                          # p(τ) dτ/ds at τ = τ_min e^(2s)
        return 2 * tau_min * np.exp(2 * s) * float(tau_density(tau_min * np.exp(2 * s), tau_min, obs))
    # beyond s = 300 the square-root factor is 1: the tail is (3 OBS/2)(1 + 600/OBS)^(−1/3) / Z analytically
    z = 1 / per_s(300.0) * (1 + 600 / obs) ** (-4 / 3)
    total = quad(per_s, 0, 300, limit=400)[0] + 1.5 * obs * (1 + 600 / obs) ** (-1 / 3) / z
    assert total == pytest.approx(1.0, rel=1e-6)
    # for τ ≫ τ_min the square-root factor adds ln 2 to the integral in s = ½ ln(τ/τ_min), so
    # CDF(τ) ≈ [(3 OBS/2)(1 − (1 + ln(τ/τ_min)/OBS)^(−1/3)) + ln 2]/Z, Z ≈ 3 OBS/2 + ln 2
    cdf = quad(per_s, 0, 10.0, limit=200)[0]                  # ln(τ/τ_min) = 20
    z_approx = 1.5 * obs + np.log(2)
    assert cdf == pytest.approx((1.5 * obs * (1 - (1 + 20 / obs) ** (-1 / 3)) + np.log(2)) / z_approx, rel=1e-2)
    assert tau_density(tau_min / 2, tau_min, obs) == 0.0
    with pytest.raises(ValueError, match="tau_min"):
        tau_density(1.0, -1.0, obs)


def test_relaxed_fraction_kki_is_the_cdf_of_the_exact_times():
    scales, dist, chi = _kki()
    u = np.array([0.3, 1.0]) * K                       # 0.3 K and 1 K TLS
    t = np.geomspace(1e-12, 1e6, 40)
    frac = relaxed_fraction_kki(u, t, 0.1, scales, dist, chi, 1200.0, 3000.0, 1500.0)
    assert frac.shape == (2, 2, 40)
    assert np.all(np.diff(frac, axis=-1) >= 0) and np.all((frac >= 0) & (frac <= 1))
    assert np.all(frac[..., 0] == 0.0)                 # t far below τ_min: nothing relaxed
    # higher energy relaxes faster (τ ∝ u⁻³ at fixed J/u)
    assert np.all(frac[:, 1, 20] >= frac[:, 0, 20])


def test_relaxed_fraction_kki_weighted_by_the_density_gives_the_production_heat_capacity():
    # k² T ∫ dx (x/2)² sech²(x/2) Σ_j n_j(x kT) F_j(x kT, t), adaptive quadrature at the exact energies, against
    # kki_heat_capacity (relaxed density summed on U_TILDE_GRID, interpolated, fixed x-panels).  Measured at
    # 0.1 K: −1.2e-4, 4.1e-5, −2.1e-5, −1.6e-6 for t = 1 µs, 1 ms, 1 s, 1000 s
    scales, dist, chi = _kki()
    T, t = 0.1, np.array([1e-6, 1e-3, 1.0, 1e3])
    material = (1200.0, 3000.0, 1500.0)

    def integrand(x):
        u = np.array([x * K * T])
        frac = relaxed_fraction_kki(u, t, T, scales, dist, chi, *material, window="exponential")
        relaxed = np.einsum("ju,jut->t", np.asarray(tls_density(u, scales, dist)), frac)      # Σ_j n_j F_j
        return relaxed * (x / 2) ** 2 / np.cosh(x / 2) ** 2

    direct = K**2 * T * quad_vec(integrand, 1e-6, 40, epsrel=1e-9, limit=200)[0]
    production = kki_heat_capacity(T, t, scales, dist, chi, *material, window="exponential")
    np.testing.assert_allclose(production, direct, rtol=3e-4)
    assert np.all(np.diff(direct) > 0)


# ---------------------------------------------------------------------------
# Heat release after a quench T1 → T (physics.md §7.3)
# ---------------------------------------------------------------------------

def fermi(x):
    return 1.0 / (np.exp(x) + 1.0)


def test_release_nodes_and_kernel():
    assert RELEASE_WEIGHTS.sum() == pytest.approx(np.pi**2 / 12, rel=1e-13)          # ∫ x f(x) dx
    for z in (1e-5, 0.03, 1.0, 7.0, 200.0):
        direct = z * quad(lambda q, z=z: np.exp(-z * q), 0, 1, weight="alg", wvar=(0, -0.5))[0]
        assert release_kernel(z) == pytest.approx(direct, rel=1e-10)
    assert release_kernel(1e-8) == pytest.approx(2e-8, rel=1e-7)
    assert release_kernel(1e8) == pytest.approx(1.0, rel=1e-7)


def test_black_heat_release_asymptote_short_times_and_direct_double_integral():
    T0, T1 = 0.1, 0.4
    t = np.array([10.0, 1e3, 1e5])                      # t ≫ τ_min(kT): (π²/24) P̄ k² (T1² − T0²)/t (Parshin–Sahling)
    np.testing.assert_allclose(black_heat_release(t, T0, T1, P0, K_TAU) / black_release_asymptote(t, T0, T1, P0),
                               1.0, rtol=1e-7)
    assert black_release_asymptote(1.0, T0, T1, P0) == pytest.approx(np.pi**2 / 24 * P0 * K**2 * 0.15, rel=1e-14)
    # t → 0: every TLS still decays, Q̇ → P̄ K_τ ∫ E⁴ coth(E/2kT0) [f(E/kT1) − f(E/kT0)] dE, finite
    def start(E):
        return E**4 / np.tanh(E / (2 * K * T0)) * (fermi(E / (K * T1)) - fermi(E / (K * T0)))
    rate0 = P0 * K_TAU * quad(start, 0, 80 * K * T1, points=[K * T0, K * T1], epsabs=0)[0]
    assert black_heat_release(1e-17, T0, T1, P0, K_TAU) == pytest.approx(rate0, rel=1e-5)
    # an independent double integral over E and q = τ_min/τ, at a time where neither limit holds: P(E, τ) dτ =
    # P̄ dq/(2q sqrt(1 − q)) and the rate q/τ_min, so the inner integral is P̄/(2τ_min) ∫ (1 − q)^(−1/2) e^(−tq/τ_min)
    t = 1e-6

    def at_energy(E):                    # q = 1 − s²: ∫ 2 e^(−z(1 − s²)) ds, its mass within 1/z of s = 1
        tau_min = np.tanh(E / (2 * K * T0)) / (K_TAU * E**3)
        z = t / tau_min
        edges = sorted({float(np.clip(1 - c / z, 0, 1)) for c in (0.1, 1, 10, 100)} - {0.0, 1.0})
        inner = quad(lambda s: 2 * np.exp(-z * (1 - s * s)), 0, 1, points=edges or None, epsabs=0, limit=200)[0]
        return E * (fermi(E / (K * T1)) - fermi(E / (K * T0))) * P0 / (2 * tau_min) * inner

    direct = quad(at_energy, 0, 80 * K * T1, points=[K * T0, K * T1], epsabs=0, limit=200)[0]
    assert black_heat_release(t, T0, T1, P0, K_TAU) == pytest.approx(direct, rel=1e-6)


def test_heat_release_refuses_a_quench_upwards():
    with pytest.raises(ValueError, match="T1 > T"):
        black_heat_release(1.0, 0.2, 0.2, P0, K_TAU)
    with pytest.raises(ValueError, match="times t after the quench"):
        black_heat_release(-1.0, 0.1, 0.2, P0, K_TAU)


def test_kki_heat_release_integrates_to_the_heat_capacity():
    # ∫_0^∞ Q̇ dt = Σ_TLS E [f(E/kT1) − f(E/kT0)] = ∫_{T0}^{T1} c(T, t → ∞) dT: the same TLS through the c(T, t) code
    scales, dist, chi = _kki()
    args = (scales, dist, chi, 1200.0, 3000.0, 1500.0)
    T0, T1 = 0.1, 0.3
    ln_t = np.linspace(np.log(1e-16), np.log(1e100), 6000)           # A_b up to 40: τ beyond 1e40 s
    released = np.trapezoid(kki_heat_release(np.exp(ln_t), T0, T1, *args) * np.exp(ln_t), ln_t)
    T = np.linspace(T0, T1, 401)
    stored = np.trapezoid(kki_heat_capacity(T, 1e100, *args), T)
    assert released == pytest.approx(stored, rel=2e-5)


def test_kki_heat_release_slope_follows_the_reconstructed_tau_density():
    # flat h, g: Q̇ t ∝ t p(τ = t) ∝ [1 + ln(t/τ_min)/OBS]^(−4/3) (KKI 6.2), so d ln(Q̇ t)/d ln t =
    # −(4/3)/(OBS + ln(t/τ_min)); measured 0.87–0.93 of it from 1e-3 to 1e8 s (the closed form's c(T, t) slope: 6 %)
    scales, _, chi = _kki()
    T0, T1 = 0.1, 0.2
    times = kki_time_scales(T0, scales, chi, 1200.0, 3000.0, 1500.0)
    ln_t = np.log(times.tau_min[0]) + np.linspace(7.0, 32.0, 26)
    q_t = kki_heat_release(np.exp(ln_t), T0, T1, scales, FLAT, chi, 1200.0, 3000.0, 1500.0) * np.exp(ln_t)
    slope = np.gradient(np.log(q_t), ln_t)[1:-1]
    law = -4 / 3 / (times.obs + ln_t[1:-1] - np.log(times.tau_min[0]))
    assert np.all((slope / law > 0.8) & (slope / law < 1.05))
    # Black's law: Q̇ t constant; here it falls by a factor 2 or more over these 11 decades
    assert q_t[-1] / q_t[0] < 0.5


# ---------------------------------------------------------------------------
# The STM with a smallest tunnel splitting Δ0,min (physics.md §7.1, §7.3)
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("window", ["step", "exponential"])
def test_black_cutoff_without_a_cutoff_is_black(window):
    # the exponential window: the uncut table minus a closed form and a 32-node integral (physics.md §7.1)
    T, t = np.array([0.05, 0.1, 0.3]), np.array([[1e-3], [1.0], [1e4]])
    np.testing.assert_allclose(black_cutoff_heat_capacity(T, t, P0, K_TAU, 1e-15 * K, window),
                               black_heat_capacity(T, t, P0, K_TAU, window), rtol=2e-9)
    np.testing.assert_allclose(black_cutoff_heat_release(t, 0.1, 0.3, P0, K_TAU, 1e-15 * K),
                               black_heat_release(t, 0.1, 0.3, P0, K_TAU), rtol=1e-7)


def test_black_cutoff_saturates_at_its_equilibrium_and_releases_its_energy():
    D0, T = 1e-5 * K, 0.1
    t = np.geomspace(1e-4, 1e14, 10)
    c = black_cutoff_heat_capacity(T, t, P0, K_TAU, D0, "exponential")
    assert np.all(np.diff(c) > -1e-15 * c[1:]) and np.all(c <= black_heat_capacity(T, t, P0, K_TAU, "exponential"))
    assert c[-1] == pytest.approx(c[-2], rel=1e-14) and c[3] < 0.95 * c[-1]   # saturated by 1e10 s
    # t → ∞: n(E) = P̄ arcsech(Δ0,min/E) for E > Δ0,min, by quad over E
    def equilibrium(E):
        r = D0 / E
        return P0 * np.log((1 + np.sqrt(1 - r * r)) / r) * K * (E / (2 * K * T)) ** 2 / np.cosh(E / (2 * K * T)) ** 2
    c_eq = quad(equilibrium, D0, 80 * K * T, epsabs=0, limit=200)[0]
    for window in ("step", "exponential"):
        assert black_cutoff_heat_capacity(T, 1e40, P0, K_TAU, D0, window) == pytest.approx(c_eq, rel=1e-8)
    # the heat released after a quench is the energy the cut-off TLS store: ∫ Q̇ dt = ∫ c(T, ∞) dT
    T0, T1 = 0.1, 0.2
    ln_t = np.linspace(np.log(1e-14), np.log(1e30), 4000)
    released = np.trapezoid(black_cutoff_heat_release(np.exp(ln_t), T0, T1, P0, K_TAU, D0) * np.exp(ln_t), ln_t)
    temps = np.linspace(T0, T1, 801)
    stored = np.trapezoid(black_cutoff_heat_capacity(temps, 1e40, P0, K_TAU, D0, "exponential"), temps)
    assert released == pytest.approx(stored, rel=1e-5)


def test_cutoff_fractions_against_adaptive_quadrature():
    def halves(f, a):                    # ½ ∫_a^1 f(q) dq/sqrt(1 − q), split where e^(−zq) turns
        edges = sorted({a, 1.0, *(float(np.clip(c / z, a, 1.0)) for c in (0.01, 1.0, 100.0))})
        out = 0.0
        for lo, hi in itertools.pairwise(edges):
            if hi < 1.0:
                out += 0.5 * quad(lambda q: f(q) / np.sqrt(1 - q), lo, hi, epsabs=0, epsrel=1e-12, limit=500)[0]
            else:
                out += 0.5 * quad(f, lo, hi, weight="alg", wvar=(0, -0.5), epsabs=0, epsrel=1e-12, limit=500)[0]
        return out

    for z in (1e-6, 0.3, 3.0, 40.0, 1e3, 1e8):
        for a in (1e-30, 1e-6, 0.1, 0.5, 0.7, 0.99):
            relaxed = halves(lambda q, z=z: -np.expm1(-z * q) / q, a)
            assert cutoff_relaxed_fraction(z, a) == pytest.approx(relaxed, rel=1e-5)     # the uncut table's own error
            rate = halves(lambda q, z=z: np.exp(-z * q), a)
            assert cutoff_release_rate(z, a) == pytest.approx(rate, rel=1e-12, abs=1e-40)   # quad: 0 below
