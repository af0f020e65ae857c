import numpy as np
import pytest
from scipy.integrate import quad

from glassfit.distributions import KKIDistribution, SeagullDistribution, as_distribution


@pytest.mark.parametrize("p", [1, 2])
@pytest.mark.parametrize("g_shape", ["curve1", "curve2"])
def test_kki_factors_are_normalised(p, g_shape):
    d = KKIDistribution(eta_c=0.4, xi_c=0.3, N=2e26, p=p, g_shape=g_shape)
    assert quad(d.h, -np.inf, np.inf, points=None)[0] == pytest.approx(1.0, rel=1e-9)
    assert quad(d.g, -np.inf, np.inf)[0] == pytest.approx(1.0, rel=1e-9)
    assert d(1.0, 0.0) == pytest.approx(2e26 * d.h(1.0) * d.g(0.0))


def test_curve_shapes():
    xi = np.linspace(0, 1.5, 301)
    c1 = KKIDistribution(0.4, 0.5, 1.0, g_shape="curve1").g(xi)
    c2 = KKIDistribution(0.4, 0.5, 1.0, g_shape="curve2").g(xi)
    assert np.argmax(c1) == 0                                   # curve 1 peaks at ξ = 0
    assert c2[0] < c2.max() and c2[0] / c2.max() == pytest.approx(0.5 / np.exp(-0.5), rel=1e-3)
    assert xi[np.argmax(c2)] == pytest.approx(0.5 / np.sqrt(2), abs=0.01)


@pytest.mark.parametrize("bad", [dict(eta_c=0.0), dict(xi_c=-1.0), dict(N=np.nan), dict(p=3), dict(g_shape="x")])
def test_kki_rejects_bad_parameters(bad):
    kwargs = dict(eta_c=0.3, xi_c=0.3, N=1e26) | bad
    with pytest.raises(ValueError, match=next(iter(bad))):
        KKIDistribution(**kwargs)


def test_seagull_forms_and_domain():
    s = SeagullDistribution(P_s=3.0)
    eta = np.array([-0.2, 0.2, 0.2])
    xi = np.array([5.0, 0.1, 1.0])                               # last: 9ξ² > 32η (type 1, redundant)
    np.testing.assert_allclose(s(eta, xi), [0.6, 0.6, 0.0])
    np.testing.assert_allclose(SeagullDistribution(3.0, "flat")(eta, xi), [3.0, 3.0, 0.0])
    with pytest.warns(UserWarning, match="T²"):
        bad = SeagullDistribution(3.0, "abs_xi")
    np.testing.assert_allclose(bad(eta, xi), [15.0, 0.3, 0.0])
    with pytest.raises(ValueError, match="variant"):
        SeagullDistribution(1.0, "nope")


def test_user_callables_are_checked():
    assert as_distribution(lambda e, x: np.ones(np.broadcast(e, x).shape)) is not None
    with pytest.raises(TypeError, match="callable"):
        as_distribution(3.0)
    with pytest.raises(ValueError, match="non-negative"):
        as_distribution(lambda e, x: -np.ones(np.broadcast(e, x).shape))
    with pytest.raises(ValueError, match="one value per"):
        as_distribution(lambda e, x: 1.0)


def test_seagull_jacobian_by_monte_carlo(rng):
    # physics.md §3.3 / §9 item 22: a smooth density of the origin-free (t, η') of V = t x + η' x² + x⁴,
    # seen from each stationary point as V = η x² + ξ x³ + x⁴, has density |η|/2 per unit (η, ξ)
    n = 400_000
    t = rng.uniform(-0.05, 0.05, n)
    eta_p = rng.uniform(-0.4, 0.4, n)
    companion = np.zeros((n, 3, 3))
    companion[:, 0, 1] = companion[:, 1, 2] = 1.0
    companion[:, 2, 1] = -eta_p / 2                          # z³ + (η'/2) z + t/4 = 0
    companion[:, 2, 0] = -t / 4
    roots = np.linalg.eigvals(companion)
    real = np.abs(roots.imag) < 1e-12
    z = roots.real[real]
    eta = np.repeat(eta_p, 3).reshape(n, 3)[real] + 6 * z**2
    xi = 4 * z
    edges = np.linspace(-0.3, 0.3, 7)
    window = np.abs(xi) < 0.2
    counts, _ = np.histogram(eta[window], bins=edges)
    density = counts / n / (0.1 * 0.4) * (0.1 * 0.8)        # per unit (η, ξ), relative to the uniform (t, η')
    centres = 0.5 * (edges[1:] + edges[:-1])
    np.testing.assert_allclose(density / np.abs(centres), 0.5, rtol=0.03)


@pytest.mark.parametrize("seed", range(5))
def test_density_is_finite_over_random_kki_draws(seed):
    from glassfit.density import tls_density
    from glassfit.potential import PotentialScales

    rng = np.random.default_rng(seed)
    dist = KKIDistribution(eta_c=rng.uniform(0.05, 5), xi_c=rng.uniform(0.02, 5), N=10 ** rng.uniform(20, 30),
                           p=rng.choice([1, 2]), g_shape=str(rng.choice(["curve1", "curve2"])))
    scales = PotentialScales(w=rng.uniform(2, 50) * 1.380649e-23, eta_L=rng.uniform(0.005, 0.3),
                             xi_L=rng.uniform(0.05, 1.0))
    n1, n2 = tls_density(np.geomspace(1e-6, 0.5, 8) * scales.w, scales, dist)
    assert np.all(np.isfinite(n1)) and np.all(np.isfinite(n2)) and np.all(n1 >= 0) and np.all(n2 >= 0)


def test_abs_xi_seagull_gives_a_density_linear_in_u():
    # physics.md §3.3: P_s|ξ| makes the TLS density ∝ |Δ| ≈ u (up to logarithms), hence c ∝ T², while
    # P_s|η| keeps it logarithmically weak — the reason the |ξ| form warns
    from glassfit.density import tls_density
    from glassfit.potential import PotentialScales

    scales = PotentialScales(w=1.0, eta_L=0.05, xi_L=0.05**0.5)
    u = np.geomspace(1e-6, 1e-3, 4)

    def log_slope(dist):
        n2 = tls_density(u, scales, dist, barrier_max=30.0)[1]
        return np.log(n2[1:] / n2[:-1]) / np.log(u[1:] / u[:-1])

    with pytest.warns(UserWarning):
        abs_xi = SeagullDistribution(1.0, "abs_xi")
    assert np.all((log_slope(abs_xi) > 1.05) & (log_slope(abs_xi) < 1.15))
    assert np.all(np.abs(log_slope(SeagullDistribution(1.0))) < 0.15)


def _sample_kki(dist, n, rng):
    """η, ξ drawn from h and g: h is a normal (p = 2, σ = η_c/√2) or Laplace (p = 1, scale η_c) about 1; g is a
    normal (curve1, σ = ξ_c/√2) or, for curve2 = ½ e^(−s²)/√π + ½ (2s²/√π) e^(−s²), half of it the signed norm
    of a 3-D normal of variance ½ per axis."""
    eta = 1.0 + (dist.eta_c / np.sqrt(2.0) * rng.standard_normal(n) if dist.p == 2 else rng.laplace(0.0, dist.eta_c, n))
    s = rng.standard_normal(n) / np.sqrt(2.0)
    if dist.g_shape == "curve2":
        radial = np.linalg.norm(rng.standard_normal((n, 3)), axis=1) / np.sqrt(2.0) * rng.choice([-1.0, 1.0], n)
        s = np.where(rng.random(n) < 0.5, s, radial)
    return eta, dist.xi_c * s


@pytest.mark.parametrize("p", [1, 2])
@pytest.mark.parametrize("g_shape", ["curve1", "curve2"])
@pytest.mark.parametrize("shape", [(0.8, 1.2), (1.5, 1.7), (0.3, 0.75)])
def test_double_well_fraction_matches_monte_carlo(p, g_shape, shape, rng):
    from glassfit.potential import SINGLE_WELL, classify

    eta_L, xi_L = 0.0442, 0.2102
    dist = KKIDistribution(*shape, 1.0, p=p, g_shape=g_shape)
    eta, xi = _sample_kki(dist, 400_000, rng)
    mc = np.mean(classify(eta / eta_L, xi / xi_L) != SINGLE_WELL)
    frac = dist.double_well_fraction(eta_L, xi_L)
    assert abs(frac - mc) < 4.0 * np.sqrt(max(mc * (1 - mc), 1e-6) / eta.size)


def test_double_well_fraction_limits_and_quadrature():
    # ξ_c → 0: η0 → 0, so the fraction is H(0) = ½ erfc(1/η_c) (p = 2) or ½ e^(−1/η_c) (p = 1)
    from scipy.special import erfc

    assert KKIDistribution(1.5, 1e-6, 1.0).double_well_fraction(0.0442, 0.2102) == pytest.approx(
        0.5 * erfc(1 / 1.5), rel=1e-9)
    assert KKIDistribution(0.5, 1e-6, 1.0, p=1).double_well_fraction(0.0442, 0.2102) == pytest.approx(
        0.5 * np.exp(-2.0), rel=1e-9)
    # a narrow h (η_c = 0.05) makes H a step at η0 = 1: against adaptive quadrature, split there
    for p in (1, 2):
        dist = KKIDistribution(0.05, 1.7, 1.0, p=p)
        scale = 9 / 32 * 0.0442 / 0.2102**2
        kink = np.sqrt(1 / scale)

        def f(xi, dist=dist, scale=scale):
            return dist.g(xi) * dist.h_cdf(scale * xi * xi)

        ref = 2 * (quad(f, 0, kink, epsabs=1e-15, limit=400)[0] + quad(f, kink, np.inf, epsabs=1e-15, limit=400)[0])
        assert dist.double_well_fraction(0.0442, 0.2102) == pytest.approx(ref, abs=1e-11)


@pytest.mark.parametrize("p", [1, 2])
def test_h_cdf_is_the_integral_of_h(p):
    dist = KKIDistribution(0.7, 0.5, 1.0, p=p)
    for eta in (-0.5, 0.9, 1.0, 1.3, 3.0):
        pieces = [(-40.0, min(eta, 1.0))] + ([(1.0, eta)] if eta > 1 else [])     # h has a kink at 1 for p = 1
        assert dist.h_cdf(eta) == pytest.approx(sum(quad(dist.h, a, b, epsabs=1e-14)[0] for a, b in pieces), abs=1e-12)
