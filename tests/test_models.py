import pickle

import numpy as np
import pytest

from glassfit import constants
from glassfit.models import REGISTRY, KKIHeatCapacityModel, STMHeatCapacityModel

T = np.geomspace(0.05, 1.0, 25)


def independent(model, temps=T):
    """Values of every independent variable of ``model``: temperatures, 1 MHz for frequencies, 10 s for times."""
    values = {"T": temps, "f": np.full(temps.shape, 1e6), "t": np.full(temps.shape, 10.0)}
    return {name: values[name] for name in model.independent}


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_model_is_finite_over_random_draws(name, rng):
    model = REGISTRY[name]()
    for _ in range(15):
        y = model.eval(model.random(rng), **independent(model))
        assert y.shape == T.shape and np.all(np.isfinite(y))
        if not model.name_id.endswith("velocity"):          # δv/v is a signed shift
            assert np.all(y > 0)


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_parameter_table_feeds_the_hints(name):
    model = REGISTRY[name]()
    params = model.make_params()
    for spec in model.parameter_table:
        p = params[spec.name]
        assert (p.value, p.min, p.max, p.vary) == (spec.default, *spec.bounds, spec.vary)
        assert spec.unit and spec.latex and spec.description
    with pytest.raises(KeyError, match="no parameter"):
        model.spec("nope")


@pytest.mark.parametrize("name", sorted(n for n, cls in REGISTRY.items() if cls.reference is not None))
def test_reference_values(name):
    model = REGISTRY[name]()
    values, T_ref, expected = model.reference
    params = model.make_params(**{k: dict(value=v) for k, v in values.items()})
    assert model.eval(params, **independent(model, np.array([T_ref])))[0] == pytest.approx(expected, rel=1e-7)


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_models_pickle(name):
    model = REGISTRY[name]()
    again = pickle.loads(pickle.dumps(model))
    params = model.make_params()
    np.testing.assert_array_equal(again.eval(params, **independent(model)), model.eval(params, **independent(model)))


def test_output_units_are_consistent():
    per_volume = STMHeatCapacityModel(output="J/(m3 K)")
    per_gram = STMHeatCapacityModel(output="J/(g K)")
    per_mole = STMHeatCapacityModel(output="J/(mol K)")
    v = per_volume.eval(per_volume.make_params(), T=T)
    np.testing.assert_allclose(per_gram.eval(per_gram.make_params(), T=T), v / 2200 / 1000, rtol=1e-14)
    np.testing.assert_allclose(per_mole.eval(per_mole.make_params(), T=T), v * 0.06008 / 2200, rtol=1e-14)
    with pytest.raises(ValueError, match="output"):
        STMHeatCapacityModel(output="cal/(g K)")
    with pytest.raises(ValueError, match="phonons"):
        STMHeatCapacityModel(phonons="einstein")


def test_stm_least_squares_recovers_p0_and_c3(rng):
    # synthetic data (labelled as such): c = (π²/6) P̄ k² T + c3 T³, 1 % noise
    model = STMHeatCapacityModel(output="J/(m3 K)", phonons="free")
    truth = dict(P0=0.86, c3=3.1)
    clean = model.eval(model.make_params(P0=dict(value=0.86), c3=dict(value=3.1)), T=T)
    sigma = 0.01 * clean
    data = clean + sigma * rng.standard_normal(T.size)
    result = model.fit(data, model.guess(data, T=T), T=T, weights=1 / sigma)
    assert result.success
    for name, true in truth.items():
        p = result.params[name]
        assert p.stderr is not None and p.stderr > 0
        assert abs(p.value - true) < 4 * p.stderr
    assert 0.3 < result.redchi < 2.5


def test_stm_guess_is_close():
    model = STMHeatCapacityModel(output="J/(m3 K)", phonons="free")
    data = model.eval(model.make_params(P0=dict(value=2.0), c3=dict(value=5.0)), T=T)
    guess = model.guess(data, T=T)
    assert guess["P0"].value == pytest.approx(2.0, rel=1e-6)
    assert guess["c3"].value == pytest.approx(5.0, rel=1e-6)


def test_kki_fit_recovers_the_concentration(rng):
    model = KKIHeatCapacityModel(output="J/(g K)")
    params = model.make_params(log10_N=dict(value=27.3))
    clean = model.eval(params, T=T)
    sigma = 0.02 * clean
    data = clean + sigma * rng.standard_normal(T.size)
    start = model.guess(data, T=T)
    start["eta_c"].set(vary=False)
    start["xi_c"].set(vary=False)
    result = model.fit(data, start, T=T, weights=1 / sigma)
    assert result.success
    assert abs(result.params["log10_N"].value - 27.3) < 4 * result.params["log10_N"].stderr
    assert result.params["N"].value == pytest.approx(10 ** result.params["log10_N"].value)


def test_kki_default_scales_are_the_worked_material():
    from glassfit.potential import SoftPotential

    pot = SoftPotential.from_units(A=1.0, B=1.0, C=1.0, mass=24.2543)
    spec = {s.name: s.default for s in KKIHeatCapacityModel().parameter_table}
    assert spec["w"] == pytest.approx(constants.joule_to_kelvin(pot.w), rel=2e-3)
    assert spec["eta_L"] == pytest.approx(pot.eta_L, rel=2e-3)
    assert spec["xi_L"] == pytest.approx(pot.xi_L, rel=2e-3)


def test_kki_multilevel_option_agrees_at_low_temperature():
    two = KKIHeatCapacityModel()
    multi = KKIHeatCapacityModel(multilevel=True)
    T_low = np.array([0.03, 0.1])
    np.testing.assert_allclose(multi.eval(multi.make_params(), T=T_low), two.eval(two.make_params(), T=T_low),
                               rtol=1e-5)
    assert pickle.loads(pickle.dumps(multi)).multilevel


def test_attenuation_output_units():
    # l⁻¹ [1/m], dB/m = (10/ln 10) l⁻¹ = 4.343 l⁻¹, Q⁻¹ = l⁻¹ v/ω (physics.md §0)
    from glassfit.models import STMAttenuationModel

    f, temps = np.array([1e6, 1e8]), np.array([0.1, 0.5])
    per_m, db, q = (STMAttenuationModel(output=o) for o in ("1/m", "dB/m", "Q^-1"))
    params = per_m.make_params()
    l_inv = per_m.eval(params, f=f, T=temps)
    np.testing.assert_allclose(db.eval(params, f=f, T=temps), 4.3429448 * l_inv, rtol=1e-7)
    np.testing.assert_allclose(q.eval(params, f=f, T=temps), l_inv * 5800.0 / (2 * np.pi * f), rtol=1e-12)
    with pytest.raises(ValueError, match="branch"):
        STMAttenuationModel(branch="x")
