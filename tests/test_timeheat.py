import numpy as np
import pytest
from scipy.integrate import quad
from scipy.optimize import brentq

from glassfit import constants
from glassfit.distributions import KKIDistribution
from glassfit.observables.heat import kki_tls_heat_capacity
from glassfit.observables.scattering import relaxation_constant
from glassfit.observables.timeheat import (
    X_STAR,
    black_asymptote,
    black_heat_capacity,
    kki_heat_capacity,
    relaxed_fraction,
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
    # all but the deepest wells (A_b > 40: J̃ < 1e-50, τ = ∞) have relaxed: a 1e-6 shortfall here
    assert c_inf == pytest.approx(c_eq, rel=1e-5) and c_inf < c_eq


def test_bad_inputs():
    scales, dist, chi = _kki()
    with pytest.raises(ValueError, match="times t"):
        black_heat_capacity(0.1, -1.0, P0, K_TAU)
    with pytest.raises(ValueError, match="window"):
        kki_heat_capacity(0.1, 1.0, scales, dist, chi, 1200.0, 3000.0, 1500.0, window="box")
