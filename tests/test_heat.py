import numpy as np
import pytest
from scipy.integrate import quad

from glassfit import constants
from glassfit.density import tls_density
from glassfit.distributions import KKIDistribution
from glassfit.observables.heat import (
    debye_coefficient,
    debye_heat_capacity,
    kki_tls_heat_capacity,
    stm_heat_capacity,
    tls_heat_capacity_from_density,
)
from glassfit.potential import SoftPotential


def test_constant_density_limit():
    # physics.md §9 item 13: c/T = (π²/6) n0 k² to 1e-10
    T = np.geomspace(1e-3, 10, 50)
    n0 = 2.5e45
    c = tls_heat_capacity_from_density(T, lambda u: np.full(u.shape, n0))
    np.testing.assert_allclose(c / T, np.pi**2 / 6 * n0 * constants.k_B**2, rtol=1e-10)


def test_debye_coefficient_of_silica():
    # physics.md §4.2 / §9 item 14: 1.755 J m⁻³ K⁻⁴ for (5800, 3750) m/s, = 0.80 μJ g⁻¹ K⁻⁴ at 2200 kg/m³
    assert debye_coefficient(5800.0, 3750.0) == pytest.approx(1.755, rel=1e-3)
    per_gram = constants.volumetric_to_specific(debye_heat_capacity(1.0, 5800.0, 3750.0), 2200.0)
    assert per_gram == pytest.approx(0.80e-6, rel=5e-3)


def test_stm_heat_capacity():
    T = np.array([0.1, 1.0])
    np.testing.assert_allclose(stm_heat_capacity(T, 1e45, 2.0), np.pi**2 / 6 * 1e45 * constants.k_B**2 * T + 2 * T**3)


def test_unit_round_trip():
    c = np.array([1.0, 7.5])
    np.testing.assert_allclose(constants.specific_to_volumetric(constants.volumetric_to_specific(c, 1180.0), 1180.0),
                               c, rtol=1e-15)
    assert constants.volumetric_to_molar(2200.0, 2200.0, 0.06) == pytest.approx(0.06)


def test_kki_heat_capacity_against_direct_quadrature():
    # c_TLS from the interpolated density vs scipy quad over u of the exact-node density
    pot = SoftPotential.from_units(A=1.0, B=1.0, C=1.0, mass=24.25)
    dist = KKIDistribution(0.8, 1.2, 1e27, g_shape="curve2")
    T = np.array([0.05, 0.2, 0.35])           # 40 kT < 0.8 w: inside the tabulated two-level range
    c = kki_tls_heat_capacity(T, pot, dist)
    for Ti, ci in zip(T, c, strict=True):
        kT = constants.k_B * Ti

        def integrand(x, kT=kT):
            return sum(tls_density(x * kT, pot, dist)) * (x / 2) ** 2 / np.cosh(x / 2) ** 2

        ref = constants.k_B**2 * Ti * quad(integrand, 1e-6, 40, epsrel=1e-8, limit=200)[0]
        assert ci == pytest.approx(ref, rel=1e-4)


def test_temperatures_must_be_positive():
    with pytest.raises(ValueError, match="T must be > 0"):
        debye_heat_capacity([1.0, 0.0], 5800.0, 3750.0)
    with pytest.raises(ValueError, match="v_t"):
        debye_coefficient(5800.0, -1.0)


def test_interpolation_with_a_barrier_cutoff_does_not_overshoot():
    # below the threshold of a cutoff the density vanishes on part of the grid: the interpolant must
    # stay within the grid values there (a cubic spline in ln n overshoots by 30 orders of magnitude)
    from glassfit.density import U_TILDE_GRID, quadrature_for
    from glassfit.observables.conductivity import kki_coupling
    from glassfit.observables.heat import kki_tls_density_spline

    pot = SoftPotential.from_units(A=1.0, B=1.0, C=1.0, mass=24.25)
    dist = KKIDistribution(0.8, 1.2, 1e27)
    fine = np.geomspace(U_TILDE_GRID[0], U_TILDE_GRID[-1], 2000) * pot.w
    n_grid = sum(quadrature_for(U_TILDE_GRID, 10.0).density(pot.scales, dist))
    assert np.any(n_grid == 0)
    assert kki_tls_density_spline(pot.scales, dist, barrier_max=10.0)(fine).max() <= n_grid.max() * (1 + 1e-12)
    coupling = kki_coupling(pot.scales, dist, 1.0, 1.0, barrier_max=10.0)
    assert np.all(np.isfinite(coupling(fine)))
    assert coupling(fine).max() <= coupling(U_TILDE_GRID * pot.w).max() * (1 + 1e-12)
