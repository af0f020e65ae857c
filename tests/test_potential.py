import numpy as np
import pytest
from scipy.integrate import quad

from glassfit import constants
from glassfit.potential import (
    A_B_LEVEL_PER_WELL,
    ETA0_LEVEL_PER_WELL,
    SINGLE_WELL,
    TYPE_1,
    TYPE_2,
    SoftPotential,
    barrier_frame,
    barrier_parameter,
    classify,
    instanton_action,
    instanton_amplitude,
    landau_lifshitz_action,
    landau_lifshitz_amplitude,
    oscillator_quantum,
    scaled_geometry,
    scaled_potential,
)


@pytest.fixture
def material():
    # physics.md §1.4: ε = 1 K, C = 1 eV (A = B = C)
    return SoftPotential.from_units(A=1.0, B=1.0, C=1.0, mass=24.2543, a0=1.0)


def test_worked_magnitudes(material):
    assert constants.joule_to_kelvin(material.epsilon) == pytest.approx(1.0, rel=1e-4)
    assert constants.joule_to_kelvin(material.w) == pytest.approx(22.6, abs=0.05)
    assert material.eta_L == pytest.approx(0.044, abs=5e-4)
    assert material.xi_L == pytest.approx(material.eta_L**0.5, rel=1e-12)  # A = B = C: ξ_L = η_L^(1/2)


def test_scales_definitions():
    p = SoftPotential(A=2e-19, B=3e-19, C=5e-19, mass=4e-26, a0=1.3e-10)
    eps = constants.hbar**2 / (2 * p.mass * p.a0**2)
    assert p.epsilon == pytest.approx(eps, rel=1e-14)
    assert p.w == pytest.approx(p.C ** (1 / 3) * eps ** (2 / 3), rel=1e-14)
    assert p.eta_L == pytest.approx(eps ** (1 / 3) * p.C ** (2 / 3) / p.A, rel=1e-14)
    assert p.xi_L == pytest.approx(eps ** (1 / 6) * p.C ** (5 / 6) / p.B, rel=1e-14)
    # the scaled polynomial reproduces V(x) at x = ℓ y
    y, eta, xi = 0.7, -0.3, 0.05
    alpha, beta = p.scaled(eta, xi)
    assert p.energy(p.length * y, eta, xi) == pytest.approx(p.w * scaled_potential(y, alpha, beta), rel=1e-12)


@pytest.mark.parametrize("bad", [dict(A=-1.0), dict(C=0.0), dict(mass=float("nan")), dict(a0="x")])
def test_soft_potential_rejects_unphysical_parameters(bad):
    kwargs = dict(A=1e-19, B=1e-19, C=1e-19, mass=1e-26, a0=1e-10) | bad
    with pytest.raises(ValueError, match=next(iter(bad))):
        SoftPotential(**kwargs)


def test_scaled_rejects_nan(material):
    with pytest.raises(ValueError, match="eta must be finite"):
        material.scaled(np.nan, 0.0)


def test_classify_types():
    np.testing.assert_array_equal(classify([-1.0, 0.5, 0.5, 0.0, 2.0], [0.0, 2.0, 0.5, 1.0, 0.0]),
                                  [TYPE_2, TYPE_1, SINGLE_WELL, SINGLE_WELL, SINGLE_WELL])


def test_stationary_points_are_stationary_and_of_the_right_kind(rng):
    alpha = rng.uniform(-20, 20, 500)
    beta = rng.uniform(-8, 8, 500)
    g = scaled_geometry(alpha, beta)
    dv = lambda y: y * (2 * alpha + 3 * beta * y + 4 * y**2)      # noqa: E731
    d2v = lambda y: 2 * alpha + 6 * beta * y + 12 * y**2           # noqa: E731
    double = g.kind != SINGLE_WELL
    for y in (g.x_left, g.x_right):
        assert np.all(np.abs(dv(y)) <= 1e-9 * (1 + np.abs(alpha) ** 1.5 + np.abs(beta) ** 3))
        assert np.all(d2v(y)[double] > 0)
    assert np.all(d2v(g.x_top)[double] < 0)
    assert np.all(g.barrier[double] > 0)
    assert np.all(np.isnan(g.barrier[~double]))


def test_symmetric_type2_barrier_and_separation(material):
    eta = -0.2
    g = material.geometry(eta, 0.0)
    A, C = material.A, material.C
    assert g.barrier == pytest.approx(A**2 * eta**2 / (4 * C), rel=1e-12)
    assert g.separation == pytest.approx(np.sqrt(2 * A * abs(eta) / C), rel=1e-12)
    assert g.asymmetry == pytest.approx(0.0, abs=1e-12 * g.barrier)


def test_symmetric_type1_barrier_and_separation(material):
    xi = 0.4
    A, B, C = material.A, material.B, material.C
    eta0 = 9 * B**2 * xi**2 / (32 * A * C)
    g = material.geometry(8 * eta0 / 9, xi)
    assert int(g.kind) == TYPE_1
    assert g.barrier == pytest.approx(4 / 81 * A**2 * eta0**2 / C, rel=1e-10)
    assert g.separation == pytest.approx(abs(B * xi) / (2 * C), rel=1e-10)
    assert g.separation == pytest.approx(np.sqrt(8 * A * eta0 / (9 * C)), rel=1e-10)


def test_linearised_asymmetries():
    # physics.md §1.2: type 2 Δ_c = (w/√2) β |α|^(3/2); type 1 |Δ_c| = (8/9) w α0 |α − 8α0/9|
    alpha, beta = -6.0, 1e-5
    assert scaled_geometry(alpha, beta).asymmetry == pytest.approx(beta * abs(alpha) ** 1.5 / np.sqrt(2), rel=1e-6)
    beta = 2.0
    alpha0 = 9 * beta**2 / 32
    d_alpha = 1e-6
    g = scaled_geometry(8 * alpha0 / 9 + d_alpha, beta)
    assert abs(g.asymmetry) == pytest.approx(8 / 9 * alpha0 * d_alpha, rel=1e-5)


def test_barrier_frame_is_the_same_polynomial(rng):
    alpha = rng.uniform(-10, 30, 300)
    beta = rng.uniform(-8, 8, 300)
    f = barrier_frame(alpha, beta)
    ok = ~np.isnan(f.a)
    z = rng.uniform(-3, 3, ok.sum())
    lhs = scaled_potential(f.y_top[ok] + z, alpha[ok], beta[ok])
    rhs = f.v_top[ok] + scaled_potential(z, -f.a[ok], f.b[ok])
    np.testing.assert_allclose(lhs, rhs, rtol=1e-10, atol=1e-10)
    assert np.all(f.a[ok] > 0)


def test_barrier_parameter_of_symmetric_wells():
    assert barrier_parameter(-7.5, 0.0) == pytest.approx(7.5)
    alpha0 = 12.0
    assert barrier_parameter(8 * alpha0 / 9, np.sqrt(32 * alpha0 / 9)) == pytest.approx(4 * alpha0 / 9, rel=1e-12)


def test_level_per_well_thresholds():
    # KKI 3.8: E^(0) = ħω/2 equals the barrier A_b²/4 exactly at A_b = 2^(5/3); type 1: η0/η_L = 9·2^(-1/3)
    assert A_B_LEVEL_PER_WELL == pytest.approx(2 ** (5 / 3))
    assert oscillator_quantum(A_B_LEVEL_PER_WELL) / 2 == pytest.approx(A_B_LEVEL_PER_WELL**2 / 4, rel=1e-14)
    alpha0 = ETA0_LEVEL_PER_WELL
    assert barrier_parameter(8 * alpha0 / 9, np.sqrt(32 * alpha0 / 9)) == pytest.approx(A_B_LEVEL_PER_WELL, rel=1e-12)
    assert ETA0_LEVEL_PER_WELL == pytest.approx(7.14, abs=0.005)


def test_instanton_prefactor():
    # physics.md §1.3: J_inst/w = 5.3675 A_b^(5/4) e^(−S0) (1 − 71/(72 S0))
    a = np.array([6.0, 10.0, 30.0])
    s0 = instanton_action(a)
    np.testing.assert_allclose(instanton_amplitude(a), 5.3675 * a**1.25 * np.exp(-s0) * (1 - 71 / (72 * s0)),
                               rtol=2e-5)


def test_landau_lifshitz_action_against_quadrature():
    for a in (4.0, 7.0, 15.0):
        e0 = np.sqrt(2 * a)
        y_t = np.sqrt(a / 2 - np.sqrt(e0))
        ref = 2 * quad(lambda y, a=a, e0=e0: np.sqrt(max((y * y - a / 2) ** 2 - e0, 0.0)), 0, y_t,
                       epsabs=1e-13)[0]
        assert landau_lifshitz_action(a) == pytest.approx(ref, rel=1e-9)


def test_landau_lifshitz_asymptotics():
    # physics.md §9 items 9 and 10
    assert landau_lifshitz_amplitude(80.0) / instanton_amplitude(80.0, first_correction=False) == pytest.approx(
        np.sqrt(np.e / np.pi), rel=3e-3)
    for a in (40.0, 60.0, 80.0):
        s0 = instanton_action(a)
        assert s0 - landau_lifshitz_action(a) == pytest.approx(0.5 * np.log(24 * np.e * s0), abs=0.006)


def test_landau_lifshitz_rejects_bad_barrier():
    with pytest.raises(ValueError, match="A_b"):
        landau_lifshitz_action(-1.0)
