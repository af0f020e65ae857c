import numpy as np
import pytest
from mc_density import mc_density
from scipy.integrate import quad
from scipy.optimize import brentq

from glassfit.density import IsoEnergyQuadrature, coupling_density, tls_density
from glassfit.distributions import KKIDistribution
from glassfit.potential import PotentialScales, SoftPotential, instanton_action
from glassfit.spectrum import symmetric_splitting, two_level

UNIT = PotentialScales(w=1.0, eta_L=1.0, xi_L=1.0, length=1.0)   # f sees (α, β) directly, n in units of 1/w
K_SIGMA = 8 / 9 * (3 / np.sqrt(2)) ** (2 / 3)                      # physics.md §3.2


def flat(eta, xi):
    return np.ones(np.broadcast(eta, xi).shape)


def test_flat_reference_values_and_equal_types():
    # physics.md §3.2: I(1e-3) = 0.6217, I(1e-2) = 0.8338 (flat h and g, A_b,max = 16), n_1 = n_2
    n1, n2 = tls_density([1e-3, 1e-2], UNIT, flat, barrier_max=16.0)
    np.testing.assert_allclose(n2, [0.6217, 0.8338], rtol=2e-4)
    np.testing.assert_allclose(n1, n2, rtol=1e-9)


def test_corrected_closed_form(tables):
    # I = ∫ dA 2√2 u / (r(A) A^(3/2) sqrt(u² − J_sym(A)²)) from the threshold to the cutoff: the
    # closed form of §3.2 with the exact 1/sqrt(1 − (J/u)²) and 1/r(A_b) inside (a 1-D integral)
    for u in (1e-5, 1e-3, 1e-2):
        a_star = brentq(lambda a, u=u: np.log(tables.symmetric_amplitude(a) / u), 3.0, 16.0, xtol=1e-13)

        def integrand(s, u=u, a_star=a_star):
            a = a_star + s * s
            return 2 * s * 2 * np.sqrt(2) * u / (tables.asymmetry_ratio(a) * a**1.5
                                                 * np.sqrt(u * u - tables.symmetric_amplitude(a) ** 2))

        closed = quad(integrand, 0, np.sqrt(16.0 - a_star), epsrel=1e-10, limit=200)[0]
        assert tls_density(u, UNIT, flat, barrier_max=16.0)[1] == pytest.approx(closed, rel=0.02)


def test_logarithmically_weak_u_dependence():
    # physics.md §9 item 21: n ∝ σ0^(−1/3) − σ_max^(−1/3) within 3 % (flat, cutoff A_b = 16)
    u = np.geomspace(1e-6, 1e-2, 5)
    n = tls_density(u, UNIT, flat, barrier_max=16.0)[1]
    sigma0 = np.array([instanton_action(brentq(lambda a, v=v: np.log(symmetric_splitting(a) / v), 3.0, 16.0))
                       for v in u])
    shape = 3 * K_SIGMA * (sigma0 ** (-1 / 3) - instanton_action(16.0) ** (-1 / 3))
    ratio = n / shape
    assert np.ptp(ratio) / ratio.mean() < 0.03
    assert np.all(np.diff(n) > 0)


def _scaled(dist, scales):
    return lambda a, b: dist(scales.eta_L * a, scales.xi_L * b)


MC_SCALES = PotentialScales(w=1.0, eta_L=0.05, xi_L=0.2, length=1.0)


def test_against_monte_carlo_fast():
    dist = KKIDistribution(eta_c=0.7, xi_c=1.0, N=1.0, g_shape="curve2")
    n1, n2 = tls_density(1e-3, MC_SCALES, dist, barrier_max=24.0)
    scale = MC_SCALES.eta_L * MC_SCALES.xi_L / MC_SCALES.w
    for kind, n in ((1, n1), (2, n2)):
        est, _ = mc_density(kind, 1e-3, _scaled(dist, MC_SCALES), 24.0)
        assert n == pytest.approx(scale * est, rel=0.02)


@pytest.mark.slow
@pytest.mark.parametrize("dist", [
    KKIDistribution(eta_c=0.5, xi_c=0.5, N=1.0),
    KKIDistribution(eta_c=1.0, xi_c=2.0, N=1.0),
    KKIDistribution(eta_c=0.7, xi_c=1.0, N=1.0, g_shape="curve2"),
], ids=["narrow", "broad", "curve2"])
@pytest.mark.parametrize("kind", [1, 2])
def test_against_monte_carlo(dist, kind):
    # the density's accuracy target: within 2 % at ≥ 6 energies over four decades, both types, three (η_c, ξ_c) settings
    u = np.geomspace(1e-6, 1e-1, 6)
    n = tls_density(u, MC_SCALES, dist, barrier_max=24.0)[kind - 1]
    scale = MC_SCALES.eta_L * MC_SCALES.xi_L / MC_SCALES.w
    mc = np.array([mc_density(kind, v, _scaled(dist, MC_SCALES), 24.0, seed=i)[0] for i, v in enumerate(u)])
    np.testing.assert_allclose(n, scale * mc, rtol=0.02)


def test_physical_units_scale_out():
    pot = SoftPotential.from_units(A=1.0, B=1.2, C=0.8, mass=30.0)
    dist = KKIDistribution(0.8, 1.5, 3e26)
    u_tilde = np.array([1e-4, 1e-2])
    n_phys = np.array(tls_density(u_tilde * pot.w, pot, dist))
    scaled = PotentialScales(1.0, 1.0, 1.0)
    n_unit = np.array(tls_density(u_tilde, scaled, lambda a, b: dist(pot.eta_L * a, pot.xi_L * b)))
    np.testing.assert_allclose(n_phys, n_unit * pot.eta_L * pot.xi_L / pot.w, rtol=1e-12)


def test_coupling_density_matches_exact_matrix_elements():
    # the nodes carry |x_ge|² and (x_ee − x_gg)² of their (α, β): check them against direct solves
    quad_nodes = IsoEnergyQuadrature([1e-3, 0.05], barrier_max=14.0)
    for nodes in (quad_nodes.type1, quad_nodes.type2):
        pick = (slice(None), slice(0, None, 17))
        exact = two_level(nodes.alpha[pick], nodes.beta[pick])
        np.testing.assert_allclose(nodes.x_ge2[pick], exact.x_ge**2, rtol=2e-4)
        np.testing.assert_allclose(nodes.dx2[pick], exact.dx**2, rtol=2e-4)
    n1, _ = tls_density([1e-3, 0.05], UNIT, flat, barrier_max=14.0)
    c1, c2 = coupling_density([1e-3, 0.05], UNIT, flat, barrier_max=14.0)
    dx1, _ = coupling_density([1e-3, 0.05], UNIT, flat, which="dx2", barrier_max=14.0)
    assert np.all(c1 / n1 < 14.0 / 2) and np.all(c1 / n1 > 0)                  # |x_ge|² ≤ (δy/2)² ≈ A_b/2
    np.testing.assert_allclose(c1, c2, rtol=1e-9)
    assert np.all(dx1 > c1)                                                  # TLS at J ≪ u mostly


@pytest.mark.parametrize(("call", "match"), [
    (lambda: tls_density(-1.0, UNIT, flat), "must be > 0"),
    (lambda: tls_density(2.0, UNIT, flat), r"u/w must lie"),
    (lambda: tls_density(1e-3, UNIT, flat, barrier_max=2.0), "barrier_max"),
    (lambda: tls_density(1e-3, UNIT, "flat"), "callable"),
    (lambda: tls_density(np.nan, UNIT, flat), "finite"),
    (lambda: coupling_density(1e-3, PotentialScales(1.0, 1.0, 1.0), flat), "length"),
    (lambda: coupling_density(1e-3, UNIT, flat, which="x"), "which"),
])
def test_bad_input(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()


def test_deep_barrier_fraction():
    from glassfit.density import A_B_TABLE_MAX, deep_barrier_fraction

    scales = PotentialScales(22.6 * 1.380649e-23, 0.0442, 0.2102)
    dist = KKIDistribution(3.0, 3.0, 1e27)                        # broad h, g: deep wells matter
    u = 1.380649e-23 * np.array([0.05, 0.3, 1.0])
    share = deep_barrier_fraction(u, scales, dist)
    # the same share from the density with a barrier cutoff at the table edge, a separate quadrature branch
    cut = sum(tls_density(u, scales, dist, barrier_max=A_B_TABLE_MAX))
    np.testing.assert_allclose(share, 1.0 - cut / sum(tls_density(u, scales, dist)), rtol=1e-12)
    np.testing.assert_allclose(share, [0.05456, 0.04605, 0.03996], atol=1e-5)
    np.testing.assert_array_equal(deep_barrier_fraction(u, scales, dist, barrier=3.0), 1.0)
    np.testing.assert_array_equal(deep_barrier_fraction(u, scales, dist, barrier=400.0), 0.0)
