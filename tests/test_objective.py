import logging
import math
import pickle

import lmfit
import numpy as np
import pytest
from inference_toys import line, line_objective, stm_data, stm_objective

from glassfit.dataset import Dataset
from glassfit.models import KKIConductivityModel, KKIHeatCapacityModel
from glassfit.objective import JointObjective, Objective
from glassfit.priors import LogUniform, Normal
from glassfit.validation import finite_array, positive_array, positive_scalar, trusted_inputs


def gaussian_logl(y, m, s):
    return float(np.sum(-0.5 * ((y - m) / s) ** 2 - np.log(s) - 0.5 * np.log(2 * np.pi)))


def test_data_broadcasts_and_hashes():
    d = Dataset({"x": [1.0, 2.0, 3.0], "g": 5.0}, [1, 2, 3], 0.5, id="d")
    assert d.x["g"].tolist() == [5.0] * 3 and d.sigma.tolist() == [0.5] * 3
    same = Dataset({"g": 5.0, "x": [1.0, 2.0, 3.0]}, [1, 2, 3], [0.5] * 3, id="other")
    assert d.sha256 == same.sha256 and len(d.sha256) == 64
    assert Dataset({"x": [1.0]}, [1.0], sha256="abc").sha256 == "abc"
    assert d.sha256 != Dataset({"x": [1.0, 2.0, 3.0]}, [1, 2, 4], 0.5).sha256


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"x": {"x": [1, 2]}, "y": [1, np.nan]}, "y must be finite"),
    ({"x": {"x": [1, 2]}, "y": [1, 2], "sigma": [1, 0]}, "sigma must be > 0"),
    ({"x": {"x": [1, 2]}, "y": [1, 2], "sigma": [1, -1]}, "sigma must be > 0"),
    ({"x": {"x": [1, 2, 3]}, "y": [1, 2]}, "x has 3 values but y has 2"),
    ({"x": {"x": [1, 2]}, "y": [1, 2], "sigma": [1, 1, 1]}, "sigma has 3 values"),
    ({"x": {"x": [1, np.inf]}, "y": [1, 2]}, "x must be finite"),
    ({"x": [1, 2], "y": [1, 2]}, "x must be a dict"),
    ({"x": {"x": []}, "y": []}, "y is empty"),
])
def test_bad_data(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        Dataset(**kwargs)


def test_known_noise_likelihood_residuals_and_prior():
    obj = line_objective(seed=1)
    theta = np.array([0.9, 2.1])
    m = line(obj.data.x["x"], *theta)
    assert obj.names == ["a", "b"]
    assert obj.logl(theta) == pytest.approx(gaussian_logl(obj.data.y, m, 0.1), rel=1e-12)
    assert obj.pointwise_logl(theta).sum() == pytest.approx(obj.logl(theta), rel=1e-12)
    np.testing.assert_allclose(obj.residuals(theta), (obj.data.y - m) / 0.1)
    assert obj.logp(theta) == pytest.approx(2 * -math.log(20.0))                   # Uniform(-10, 10) each
    assert obj.logpost(theta) == pytest.approx(obj.logp(theta) + obj.logl(theta))
    assert obj.logpost([11.0, 2.0]) == -math.inf


@pytest.mark.parametrize("noise", ["scaled", "fitted"])
def test_fitted_noise_models(noise):
    obj = line_objective(seed=2, noise=noise)
    name = {"scaled": "sigma_scale[line]", "fitted": "sigma_rel[line]"}[noise]
    assert obj.names == ["a", "b", name] and obj.units()[name] == "1"
    theta = np.array([1.0, 2.0, 0.7])
    m = line(obj.data.x["x"], 1.0, 2.0)
    s = 0.7 * (0.1 if noise == "scaled" else np.abs(obj.data.y))
    assert obj.logl(theta) == pytest.approx(gaussian_logl(obj.data.y, m, s), rel=1e-12)
    assert obj.pointwise_logl(theta).sum() == pytest.approx(obj.logl(theta), rel=1e-12)
    assert isinstance(obj.priors[name], LogUniform)
    assert obj.theta().tolist() == [1.0, 2.0, 1.0 if noise == "scaled" else 0.01]


def test_noise_prior_override_and_unknown_names():
    obj = line_objective(noise="scaled")
    priors = {"sigma_scale[line]": Normal(1, 0.1), "a": Normal(0, 1)}
    obj2 = Objective(obj.model, obj.data, noise="scaled", priors=priors)
    assert isinstance(obj2.priors["sigma_scale[line]"], Normal) and isinstance(obj2.priors["a"], Normal)
    with pytest.raises(ValueError, match=r"unknown or fixed parameters \['c'\].*\['a', 'b', 'sigma_scale\[line\]'\]"):
        Objective(obj.model, obj.data, noise="scaled", priors={"c": Normal(0, 1)})


def test_bad_objective_inputs():
    obj = line_objective()
    with pytest.raises(ValueError, match="noise must be one of"):
        Objective(obj.model, obj.data, noise="gaussian")
    with pytest.raises(TypeError, match=r"model must be an lmfit\.Model"):
        Objective(line, obj.data)
    with pytest.raises(TypeError, match=r"data must be a glassfit\.dataset\.Dataset"):
        Objective(obj.model, (obj.data.x, obj.data.y))
    with pytest.raises(TypeError, match=r"params must be lmfit\.Parameters"):
        Objective(obj.model, obj.data, params={"a": 1})
    with pytest.raises(ValueError, match=r"lacks the model's independent variables \['x'\]"):
        Objective(obj.model, Dataset({"T": [1.0]}, [1.0], 1.0))
    with pytest.raises(ValueError, match="needs sigma"):
        Objective(obj.model, Dataset({"x": [1.0]}, [1.0]))
    with pytest.raises(ValueError, match=r"relative to \|y\|, which has zeros"):
        Objective(obj.model, Dataset({"x": [1.0, 2.0]}, [0.0, 1.0]), noise="fitted")
    params = obj.model.make_params()
    for p in params.values():
        p.vary = False
    with pytest.raises(ValueError, match="no free parameters"):
        Objective(obj.model, obj.data, params=params)
    with pytest.raises(ValueError, match=r"θ must have shape \(2,\)"):
        obj.logl([1.0])
    with pytest.raises(ValueError, match="no value for parameter 'b'"):
        obj.theta({"a": 1.0})


def test_nonfinite_model_is_minus_inf_counted_and_logged(caplog):
    model = lmfit.Model(lambda x, a: np.where(a > 0.5, np.nan, a * x), name="nan above 0.5")
    model.set_param_hint("a", value=0.2, min=0.0, max=1.0)
    obj = Objective(model, Dataset({"x": [1.0, 2.0]}, [0.2, 0.4], 0.1))
    assert np.isfinite(obj.logpost([0.2]))
    with caplog.at_level(logging.WARNING, logger="glassfit.objective"):
        assert obj.logpost([0.7]) == -math.inf
    assert obj.n_nonfinite == 1
    assert "{'a': 0.7}" in caplog.text


def test_glass_model_fixed_expression_and_derived_parameters():
    model = KKIHeatCapacityModel()
    params = model.make_params()
    params["xi_c"].set(expr="eta_c")                       # tie a model argument to another parameter
    T = np.geomspace(0.05, 0.5, 8)
    truth = model.eval(params, T=T)
    obj = Objective(model, Dataset({"T": T}, truth, 0.01 * truth, id="c"), params=params)
    assert obj.names == ["eta_c", "log10_N"]
    values = obj.values({"eta_c": 0.8, "log10_N": 26.0})
    assert values["xi_c"] == 0.8 and values["N"] == pytest.approx(1e26) and values["w"] == 22.6
    params["eta_c"].set(value=0.8)
    params["log10_N"].set(value=26.0)
    np.testing.assert_allclose(obj.model_values({"eta_c": 0.8, "log10_N": 26.0}), model.eval(params, T=T), rtol=1e-12)
    clone = pickle.loads(pickle.dumps(obj))                # pools send the objective to workers
    assert clone.logpost([0.8, 26.0]) == obj.logpost([0.8, 26.0])


def test_joint_objective_shares_parameters_by_name():
    model, data = stm_data()
    a = Objective(model, data)
    b = Objective(model, Dataset(data.x, data.y * 1.01, data.sigma, id="second"), noise="scaled")
    joint = JointObjective([a, b])
    assert joint.names == ["P0", "c3", "sigma_scale[second]"]
    theta = np.array([2.0, 1.5, 1.3])
    assert joint.logl(theta) == pytest.approx(a.logl(theta[:2]) + b.logl(theta))
    assert joint.logp(theta) == pytest.approx(a.logp(theta[:2]) + b.priors["sigma_scale[second]"].logp(1.3))
    assert joint.pointwise_logl(theta).size == 60 and joint.residuals(theta).size == 60
    assert joint.units()["P0"] == "1e45 J^-1 m^-3"
    assert joint.theta().tolist() == [1.0, 1.755, 1.0]
    assert [d.id for d in joint.datasets] == ["stm c(T)", "second"]


def test_joint_fit_of_two_observables_ties_kki_names():
    heat, kappa = KKIHeatCapacityModel(), KKIConductivityModel()
    T = np.geomspace(0.1, 1.0, 4)
    c = Objective(heat, Dataset({"T": T}, heat.eval(heat.make_params(), T=T), 1e-9, id="c"))
    k = Objective(kappa, Dataset({"T": T}, kappa.eval(kappa.make_params(), T=T), 1e-4, id="kappa"))
    joint = JointObjective([c, k])
    assert joint.names[:3] == ["eta_c", "xi_c", "log10_N"] and "chi_1" in joint.names
    assert np.isfinite(joint.logpost(joint.theta()))


def test_bad_joint_inputs():
    a = stm_objective()
    with pytest.raises(ValueError, match="dataset names must be distinct"):
        JointObjective([a, stm_objective(seed=1)])
    with pytest.raises(TypeError, match="non-empty list"):
        JointObjective([])
    model, data = stm_data(name="fixed")
    params = model.make_params()
    params["c3"].set(vary=False)
    with pytest.raises(ValueError, match=r"\['c3'\] are free in 'stm c\(T\)' but fixed in 'fixed'"):
        JointObjective([a, Objective(model, data, params=params)])
    with pytest.raises(ValueError, match="unknown or fixed parameters"):
        JointObjective([a], priors={"v_l": Normal(5800, 100)})


def checked_sqrt(x, a):
    """a √x, refusing x ≤ 0 through glassfit's input checks (top level: picklable)."""
    return a * np.sqrt(positive_array("x", x))


def test_the_likelihood_path_does_not_check_the_data_again():
    with pytest.raises(ValueError, match="x must be > 0"):
        positive_array("x", [-1.0])
    with trusted_inputs():
        np.testing.assert_array_equal(positive_array("x", [-1.0, np.nan]), [-1.0, np.nan])
        assert positive_scalar("rho", -2) == -2.0 and np.isnan(finite_array("y", [np.nan])).all()
    with pytest.raises(RuntimeError), trusted_inputs():
        raise RuntimeError("leaves the context")
    with pytest.raises(ValueError, match="must be finite"):                # checks are back after an exception
        finite_array("y", [np.inf])
    model = lmfit.Model(checked_sqrt)
    model.set_param_hint("a", value=1.0, min=0.1, max=10.0)
    x = np.array([1.0, 4.0, 9.0])
    obj = Objective(model, Dataset({"x": x}, 2.0 * np.sqrt(x), 0.1))
    # the dataset's points go to the model unchecked (they were checked once, when the Dataset was made) …
    assert obj.logl([2.0]) == pytest.approx(3 * (-np.log(0.1) - 0.5 * np.log(2 * np.pi)), rel=1e-14)
    # … points from outside are checked
    with pytest.raises(ValueError, match="x must be > 0"):
        obj.model_values({"a": 2.0}, {"x": np.array([-1.0])})
