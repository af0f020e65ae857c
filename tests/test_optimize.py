"""The MAP: global search, prior shapes as residuals, covariance under the stated noise model (glassfit.optimize)."""

import math

import lmfit
import numpy as np
import pytest
from scipy import optimize as scipy_optimize
from scipy import stats

from glassfit import optimize
from glassfit.dataset import Dataset
from glassfit.objective import Objective
from glassfit.priors import LogNormal, LogUniform, Normal, ScipyPrior, TruncatedNormal, Uniform

X = np.linspace(0.0, 6.0, 40)


def cosine_objective(start=0.6, sigma=0.05):
    """y = cos(a x) with a = 2.3: χ²(a) has many local minima; a local fit from a = 0.6 stops in a wrong one."""
    model = lmfit.Model(lambda x, a: np.cos(a * x))
    data = Dataset({"x": X}, np.cos(2.3 * X), sigma)
    return Objective(model, data, model.make_params(a=start), priors={"a": Uniform(0.1, 5.0)})


def line_objective(prior, sigma=0.1, rng=0):
    """y = a x with a = 2, noisy (χ²_ν ≠ 1 on purpose)."""
    model = lmfit.Model(lambda x, a: a * x)
    x = np.linspace(1.0, 2.0, 12)
    y = 2.0 * x + 0.3 * sigma * np.random.default_rng(rng).standard_normal(x.size)
    return Objective(model, Dataset({"x": x}, y, sigma), model.make_params(a=1.0), priors={"a": prior}), x, y


def test_local_fit_is_trapped_and_the_global_search_is_not():
    objective = cosine_objective()
    theta, _ = optimize.least_squares(objective)
    assert abs(theta[0] - 2.3) > 0.5                          # a wrong local minimum
    assert optimize.map_fit(objective, method="none").theta[0] == pytest.approx(theta[0], rel=1e-6)
    for method in ("multistart", "differential_evolution"):
        found = optimize.map_fit(objective, method=method, seed=3)
        assert found.theta[0] == pytest.approx(2.3, abs=1e-7)
        assert found.best.chisqr < 1e-10
    found = optimize.map_fit(objective, seed=3, starts=12)
    assert len(found.optima) >= 3                             # the other minima are listed, best first
    assert [o.phi for o in found.optima] == sorted(o.phi for o in found.optima)
    assert sum(o.hits for o in found.optima) == 12 + 1        # every start, and the final polish


def test_starts_at_adds_local_fits_from_given_points():
    objective = cosine_objective()
    trapped = optimize.map_fit(objective, method="none")              # the local minimum from a = 0.6
    found = optimize.map_fit(objective, method="none", starts_at=[[2.25]])
    assert trapped.best.chisqr > 1.0
    assert found.theta[0] == pytest.approx(2.3, abs=1e-7) and found.best.chisqr < 1e-10
    assert sum(o.hits for o in found.optima) == 2 + 1                 # the start value, the given point, the polish
    with pytest.raises(ValueError, match="a start of starts_at must be 1 finite numbers"):
        optimize.map_fit(objective, starts_at=[[1.0, 2.0]])


def test_search_is_reproducible_for_a_seed():
    objective = cosine_objective()
    a = optimize.map_fit(objective, seed=11, starts=3, screen=20)
    b = optimize.map_fit(objective, seed=11, starts=3, screen=20)
    assert np.array_equal(a.theta, b.theta) and a.n_evaluations == b.n_evaluations


def test_normal_prior_gives_the_conjugate_map_and_variance():
    mu0, s0 = 1.5, 0.05
    objective, x, y = line_objective(Normal(mu0, s0))
    precision = np.sum(x**2) / 0.1**2 + 1 / s0**2
    a_map = (np.sum(x * y) / 0.1**2 + mu0 / s0**2) / precision
    found = optimize.map_fit(objective, seed=0)
    assert found.theta[0] == pytest.approx(a_map, rel=1e-9)
    assert found.cov[0, 0] == pytest.approx(1 / precision, rel=1e-6)
    assert found.best.prior_penalty == pytest.approx(((a_map - mu0) / s0) ** 2, rel=1e-6)


def test_lognormal_prior_acts_in_ln_a():
    prior = LogNormal(1.7, 0.02)
    objective, x, y = line_objective(prior)

    def phi(ln_a):
        return np.sum((y - np.exp(ln_a) * x) ** 2) / 0.1**2 + ((ln_a - math.log(1.7)) / 0.02) ** 2

    expected = math.exp(scipy_optimize.minimize_scalar(phi, bracket=(0.0, 1.0), tol=1e-12).x)
    assert optimize.map_fit(objective, seed=0).theta[0] == pytest.approx(expected, rel=1e-7)
    assert 1.7 < expected < 2.0                                  # pulled by the prior, not stuck at it


def test_known_sigma_errors_are_not_rescaled():
    # scatter 0.3 σ makes χ²_ν ≈ 0.09: lmfit's default would shrink the error by 0.3; the stated σ must not
    objective, x, _ = line_objective(Uniform(-1e3, 1e3))
    found = optimize.map_fit(objective, seed=0)
    assert found.best.chisqr / (x.size - 1) < 0.3
    assert math.sqrt(found.cov[0, 0]) == pytest.approx(0.1 / math.sqrt(np.sum(x**2)), rel=1e-5)


def test_likelihood_maximum_ignores_prior_shape():
    objective, x, y = line_objective(Normal(1.5, 0.05))
    found = optimize.map_fit(objective, seed=0, use_priors=False)
    assert found.theta[0] == pytest.approx(np.sum(x * y) / np.sum(x**2), rel=1e-9)
    assert found.best.prior_penalty == 0.0


@pytest.mark.parametrize("prior, x", [(Normal(1.0, 2.0), 4.0), (TruncatedNormal(0.0, 1.0, -1.0, 3.0), 2.0),
                                      (ScipyPrior(stats.gamma(3.0)), 5.0), (ScipyPrior(stats.gamma(3.0)), 0.5)])
def test_prior_residual_squares_to_twice_the_log_density_drop(prior, x):
    r = prior.residual(x)
    assert r**2 == pytest.approx(2 * (prior.logp(prior.mode) - prior.logp(x)), rel=1e-7)
    assert math.copysign(1, r) == math.copysign(1, x - prior.mode)


def test_prior_residual_special_cases():
    assert Normal(1.0, 2.0).residual(4.0) == 1.5
    assert ScipyPrior(stats.gamma(3.0)).mode == pytest.approx(2.0, abs=1e-6)
    assert Uniform(0.0, 1.0).residual(0.3) == 0.0 and math.isnan(Uniform(0.0, 1.0).residual(2.0))
    assert LogUniform(1e-3, 1e3).residual(5.0) == 0.0 and LogUniform(1.0, 2.0).flat    # flat in ln x
    assert LogNormal(3000.0, 0.4).residual(3000.0 * math.e) == pytest.approx(2.5, rel=1e-12)


def test_bad_search_arguments():
    objective = cosine_objective()
    with pytest.raises(ValueError, match="method must be one of"):
        optimize.map_fit(objective, method="anneal")
    with pytest.raises(ValueError, match="screen and starts must be"):
        optimize.map_fit(objective, starts=0)
    with pytest.raises(ValueError, match=r"the start value a = 50 \(prior support \[0.1, 5\]\) lies outside"):
        optimize.least_squares(objective, [50.0])
    tiny = Objective(objective.model, Dataset({"x": X}, np.cos(2.3 * X), 1e-320), priors={"a": Uniform(0.1, 5.0)})
    with pytest.raises(ValueError, match="the likelihood is not finite at the start values"):
        optimize.least_squares(tiny, [1.0])


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_screening_points_whose_chi2_overflows_are_infinite_and_silent():
    # y = e^a with a uniform on [0, 700]: the Latin-hypercube points beyond a ≈ 360 give residuals ~1e156 whose
    # square overflows; they must count as Φ = ∞ without a RuntimeWarning, and the search still finds a = ln 2
    model = lmfit.Model(lambda x, a: np.exp(a) + 0.0 * x)
    objective = Objective(model, Dataset({"x": X[:5]}, np.full(5, 2.0), 0.01), model.make_params(a=600.0),
                          priors={"a": Uniform(0.0, 700.0)})
    found = optimize.map_fit(objective, seed=0)
    assert found.theta[0] == pytest.approx(math.log(2.0), rel=1e-6)
