"""What the data constrain (glassfit.identifiability) and data-regime flags (glassfit.checks)."""

import math

import lmfit
import numpy as np
import pytest

from glassfit import checks, identifiability, optimize
from glassfit.dataset import Dataset
from glassfit.objective import Objective
from glassfit.priors import LogNormal, LogUniform, Normal, Uniform


class ProductModel(lmfit.Model):
    """y = a b x: the data fix a·b only; reports the product as a constrained combination."""

    def __init__(self):
        super().__init__(lambda x, a, b, c: a * b * x + c)

    def derived_quantities(self, values, x):
        return {"ab": (values["a"] * values["b"], "1", "the product the data fix")}

    def validity_warnings(self, values, x):
        return [f"x beyond 1.5 at {int(np.sum(x['x'] > 1.5))} points"]


@pytest.fixture
def product():
    model = ProductModel()
    x = np.linspace(1.0, 2.0, 10)
    data = Dataset({"x": x}, 6.0 * x + 0.5, 0.01)
    priors = {"a": LogUniform(0.1, 100.0), "b": LogUniform(0.1, 100.0), "c": Uniform(-10.0, 10.0)}
    objective = Objective(model, data, model.make_params(a=2.0, b=3.0, c=0.0), priors=priors)
    found = optimize.map_fit(objective, seed=0)
    return objective, found, x


def test_singular_directions_find_the_power_law_degeneracy(product):
    objective, found, _ = product
    directions = identifiability.singular_directions(objective, found.theta)
    assert [d.s for d in directions] == sorted((d.s for d in directions), reverse=True)
    flat = directions[-1]
    assert flat.s < 1e-6 * directions[0].s                                # exact: ln a + ln b is all that enters
    assert flat.components["ln a"] == pytest.approx(-flat.components["ln b"], abs=1e-6)
    assert abs(flat.components["ln a"]) == pytest.approx(1 / math.sqrt(2), abs=1e-6)
    assert "ln a" in flat.text() and "c" not in flat.text()


def test_constraint_table_separates_data_and_prior(product):
    objective, found, _ = product
    # every point of the ridge a·b = 6 is a MAP, and the Laplace width along it depends on the point: at
    # a = b = √6 it is the prior's; the global search may end anywhere on it (a = 0.19 with this box's BLAS), so
    # the table is taken at the ridge's centre in ln a, ln b
    theta, cov = optimize.least_squares(objective, [math.sqrt(6.0), math.sqrt(6.0), 0.5])
    assert theta[0] * theta[1] == pytest.approx(found.theta[0] * found.theta[1], rel=1e-6)
    rows = {r["name"]: r for r in identifiability.constraint_table(objective, theta, cov=cov)}
    assert rows["c"]["set_by"] == "data" and rows["c"]["coordinate"] == "c"
    assert rows["a"]["set_by"] == "prior" and rows["a"]["coordinate"] == "ln a"
    # the prior width of ln a: half the ±1σ quantile range of LogUniform(0.1, 100) in ln, 0.6827·ln(1000)/2
    assert rows["a"]["prior_width"] == pytest.approx(0.5 * 0.6826894921370859 * math.log(1000.0), rel=1e-9)
    assert rows["c"]["data_width"] == pytest.approx(rows["c"]["posterior_width"], rel=1e-3)
    assert rows["a"]["data_width"] == math.inf
    draws = np.random.default_rng(0).multivariate_normal(found.theta, found.cov, size=4000)
    draws = draws[(draws[:, 0] > 0) & (draws[:, 1] > 0)]
    from_draws = {r["name"]: r for r in identifiability.constraint_table(objective, found.theta, draws=draws)}
    assert from_draws["c"]["posterior_width"] == pytest.approx(rows["c"]["posterior_width"], rel=0.05)


def test_a_prior_on_one_factor_makes_the_other_data_plus_prior():
    # the data fix a·b, the normal prior fixes b (10 %): a is known to 10 %, by data and prior together
    model = ProductModel()
    x = np.linspace(1.0, 2.0, 10)
    priors = {"a": LogUniform(0.1, 100.0), "b": Normal(3.0, 0.3), "c": Uniform(-10.0, 10.0)}
    objective = Objective(model, Dataset({"x": x}, 6.0 * x + 0.5, 0.01), model.make_params(a=2.0, b=3.0, c=0.0),
                          priors=priors)
    found = optimize.map_fit(objective, seed=0)
    rows = {r["name"]: r for r in identifiability.constraint_table(objective, found.theta, cov=found.cov)}
    assert [rows[n]["set_by"] for n in "abc"] == ["data + prior", "prior", "data"]
    assert rows["a"]["posterior_width"] == pytest.approx(0.1, rel=0.01)            # in ln a: σ_b/b


def test_derived_quantities_by_delta_method_and_draws(product):
    objective, found, x = product
    (row,) = identifiability.derived_quantities(objective, found.theta, cov=found.cov)
    assert row["name"] == "ab" and row["value"] == pytest.approx(6.0, rel=1e-8)
    # σ(ab) from the data alone: the linear fit of y = s x + c with σ = 0.01
    design = np.column_stack([x, np.ones_like(x)]) / 0.01
    expected = math.sqrt(np.linalg.inv(design.T @ design)[0, 0])
    assert row["error"] == pytest.approx(expected, rel=1e-3)
    draws = np.tile(found.theta, (5, 1)) * np.array([[1.0], [2.0], [1.0], [0.5], [1.0]]) ** np.array([1, 0, 0])
    (row,) = identifiability.derived_quantities(objective, found.theta, draws=draws)
    assert row["value"] == pytest.approx(6.0, rel=1e-8) and row["q84"] > row["value"] > row["q16"]
    assert identifiability.warnings_at(objective, found.theta) == ["x beyond 1.5 at 5 points"]


def test_models_without_the_reporting_protocol_report_nothing():
    model = lmfit.Model(lambda x, a: a * x)
    objective = Objective(model, Dataset({"x": np.arange(1.0, 5.0)}, np.arange(1.0, 5.0), 0.1),
                          priors={"a": Uniform(0.0, 3.0)})
    assert identifiability.derived_quantities(objective, [1.0], cov=np.eye(1)) == []
    assert identifiability.warnings_at(objective, [1.0]) == []


def test_conductivity_regime_flag():
    T = np.geomspace(0.3, 3.0, 12)
    assert checks.log_slope(T, 2e-3 * T**1.1) == pytest.approx(1.1, abs=1e-12)
    (flag,) = checks.data_flags("conductivity", {"T": T}, 2e-3 * T**1.1)
    assert "T^1.10" in flag and "not in the resonant-scattering regime" in flag
    assert checks.data_flags("conductivity", {"T": T}, 2e-3 * T**1.9) == []
    assert checks.data_flags("heat_capacity", {"T": T}, T**1.1) == []


def test_a_parameter_on_its_bound_is_reported():
    model = lmfit.Model(lambda x, a: a * x)
    objective = Objective(model, Dataset({"x": np.arange(1.0, 5.0)}, 5.0 * np.arange(1.0, 5.0), 0.1),
                          priors={"a": Uniform(0.0, 3.0)})
    found = optimize.map_fit(objective, seed=0)
    assert found.theta[0] == pytest.approx(3.0, rel=1e-12)
    (line,) = identifiability.warnings_at(objective, found.theta)
    assert line.startswith("a = 3 is on the upper edge of its prior support [0, 3]")
    assert identifiability.bound_warnings(objective, [2.9]) == []
    scale = Objective(model, objective.data, priors={"a": LogNormal(3.0, 0.4)})      # support (0, ∞)
    assert identifiability.bound_warnings(scale, [3000.0]) == []


def test_a_parameter_the_data_do_not_see_is_reported():
    model = lmfit.Model(lambda x, a, b: a * x + 0.0 * b)
    objective = Objective(model, Dataset({"x": np.arange(1.0, 5.0)}, 2.0 * np.arange(1.0, 5.0), 0.1),
                          priors={"a": Uniform(0.0, 3.0), "b": Uniform(-1.0, 1.0)})
    found = optimize.map_fit(objective, seed=0)
    (line,) = identifiability.warnings_at(objective, found.theta)
    assert line.startswith("the data do not depend on b at the optimum")
    rows = {r["name"]: r for r in identifiability.constraint_table(objective, found.theta, cov=found.cov)}
    assert rows["b"]["set_by"] == "prior" and rows["a"]["set_by"] == "data"


def test_the_svd_of_a_long_jacobian_needs_memory_proportional_to_the_points():
    # a full SVD would build the points × points left vectors: 3.2 GB for 20 000 points
    import tracemalloc

    jac = np.random.default_rng(0).normal(size=(20_000, 3))
    tracemalloc.start()
    s, vt = identifiability.thin_svd(jac)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 10 * jac.nbytes and vt.shape == (3, 3)
    np.testing.assert_allclose(s, np.linalg.svd(jac, compute_uv=False), rtol=1e-12)
    s, vt = identifiability.thin_svd(jac[:2])                              # fewer points than parameters
    assert s.shape == (3,) and s[-1] == 0.0 and vt.shape == (3, 3)
