"""Batched evaluation (glassfit.batching): every model, every option, every row varied alone or all together, equals
the one-at-a-time evaluation to 1e-12; the objective's batch methods equal their single forms row by row; the
sampler's batched chain is the walker-by-walker chain; the global search evaluates its population as a batch."""

import warnings

import emcee
import lmfit
import numpy as np
import pytest
from inference_toys import line_model, line_objective, stm_objective

from glassfit import optimize, sampling
from glassfit.batching import batch_shape, batch_slices, expand
from glassfit.dataset import Dataset
from glassfit.density import U_TILDE_GRID, EnergyCurves
from glassfit.models import REGISTRY, KKIConductivityModel, KKIHeatCapacityModel, KKITimeHeatModel
from glassfit.objective import JointObjective, Objective
from glassfit.validation import trusted_inputs

T = np.geomspace(0.03, 1.5, 9)
OPTIONS = [(name, {}) for name in sorted(REGISTRY)] + [
    ("stm_heat_capacity", {"output": "J/(mol K)", "phonons": "free"}), ("stm_heat_capacity", {"t_exp": 10.0}),
    ("kki_heat_capacity", {"t_exp": 1.0}), ("kki_heat_capacity", {"multilevel": True}),
    ("kki_heat_capacity", {"phonons": "free", "output": "J/(m3 K)"}),
    ("kki_conductivity", {"plateau": "spm", "boundary": True}), ("kki_conductivity", {"plateau": "none"}),
    ("stm_conductivity", {"plateau": "spm", "boundary": True}),
    ("stm_attenuation", {"branch": "t", "output": "dB/m"}), ("kki_attenuation", {"relaxation": False}),
    ("kki_attenuation", {"output": "1/m", "branch": "t"}), ("stm_velocity", {"branch": "t"}),
    ("black_time_heat", {"window": "exponential"}), ("kki_time_heat", {"window": "step"}),
    ("black_time_heat", {"window": "exponential", "cutoff": True}), ("black_heat_release", {"cutoff": True})]


def points(model):
    """Two frequencies, two times and two photon numbers over the temperatures (and 3 T before a quench), for
    whichever independent variables ``model`` takes."""
    values = {"T": np.tile(T, 2), "f": np.repeat([3e4, 3e6], T.size), "t": np.repeat([1.0, 1e3], T.size),
              "n": np.repeat([10.0, 1e6], T.size), "T1": np.tile(3 * T, 2)}
    return {name: values[name] for name in model.independent}


def draws(model, rng, size=3):
    """``size`` parameter sets drawn inside the bounds (name → array)."""
    sets = [model.table_values(model.random(rng)) for _ in range(size)]
    return {name: np.array([s[name] for s in sets]) for name in sets[0]}


def one_by_one(model, x, values):
    size = batch_shape(*values.values())[0]
    return np.stack([model.eval(**x, **{n: float(np.broadcast_to(v, (size,))[i]) for n, v in values.items()})
                     for i in range(size)])


@pytest.mark.parametrize(("name", "options"), OPTIONS, ids=[f"{n}-{o}" for n, o in OPTIONS])
def test_batch_equals_the_single_evaluations(name, options, rng):
    model = REGISTRY[name](**options)
    x = {"T": T[:3]} if options.get("multilevel") else points(model)    # the multilevel sum: ≈ 50 ms a T
    values = draws(model, rng, size=2 if name == "kki_velocity" else 3)
    batch = model.evaluate_batch(x, values)
    assert batch.shape == (len(next(iter(values.values()))), x["T"].size)
    np.testing.assert_allclose(batch, one_by_one(model, x, values), rtol=1e-12, atol=0)


@pytest.mark.parametrize("name", ["kki_heat_capacity", "kki_conductivity", "kki_attenuation", "kki_time_heat",
                                  "stm_attenuation", "black_time_heat"])
def test_batch_varying_one_row_at_a_time(name, rng):
    """A batch where one row varies and the rest are shared (the kernels then keep the shared ones as numbers)."""
    model = REGISTRY[name]()
    x = points(model)
    defaults = model.table_values(model.make_params())
    every = ["eta_c", "xi_c", "log10_N", "w", "eta_L", "xi_L", "chi_1", "chi_2", "chi_t_ratio", "P0", "gamma_l",
             "gamma_t", "rho", "v_l", "v_t"]
    for row in (n for n in every if n in defaults):
        values = {n: np.full(2, v) for n, v in defaults.items()}
        values[row] = draws(model, rng, 2)[row]
        np.testing.assert_allclose(model.evaluate_batch(x, values), one_by_one(model, x, values), rtol=1e-12,
                                   err_msg=row)


def test_batch_of_identical_sets_and_shared_numbers():
    model = KKIHeatCapacityModel()
    x = {"T": T}
    defaults = model.table_values(model.make_params())
    same = model.evaluate_batch(x, {n: np.full(4, v) for n, v in defaults.items()})
    numbers = model.evaluate_batch(x, defaults | {"eta_c": np.array([0.8, 0.9])})
    assert same.shape == (4, T.size) and np.array_equal(same[0], same[3])
    np.testing.assert_allclose(same[0], model.eval(T=T, **defaults), rtol=1e-13)
    np.testing.assert_allclose(numbers[1], model.eval(T=T, **defaults | {"eta_c": 0.9}), rtol=1e-12)


def test_batch_input_errors_are_readable():
    model = KKIConductivityModel()
    defaults = model.table_values(model.make_params())
    with pytest.raises(ValueError, match=r"lacks values of \['xi_c'\]"):
        model.evaluate_batch({"T": T}, {n: v for n, v in defaults.items() if n != "xi_c"})
    with pytest.raises(ValueError, match="eta_c must be finite"):
        model.evaluate_batch({"T": T}, defaults | {"eta_c": np.array([0.8, np.nan])})
    with pytest.raises(ValueError, match="T must be > 0"):
        model.evaluate_batch({"T": -T}, defaults | {"eta_c": np.array([0.8, 0.9])})
    with pytest.raises(ValueError, match="batches of different sizes"):
        model.evaluate_batch({"T": T}, defaults | {"eta_c": np.ones(2), "xi_c": np.ones(3)})


def test_expand_and_slices():
    assert expand(2.0, 3).shape == () and expand(np.arange(4.0), 2).shape == (4, 1, 1)
    assert batch_shape(1.0, np.ones(3), 2.0) == (3,) and batch_shape(1.0, 2.0) == ()
    assert [(s.start, s.stop) for s in batch_slices(70, 32)] == [(0, 32), (32, 64), (64, 70)]


def test_energy_curves_of_a_batch_and_of_points():
    """Each curve of a batch (and each point's curve) is the single curve of its values, at shared and at per-set w."""
    rng = np.random.default_rng(3)
    values = np.exp(rng.normal(size=(3, 4, U_TILDE_GRID.size)))              # 3 sets × 4 points × grid
    energies = np.geomspace(1e-25, 1e-22, 7) * np.arange(1, 5)[:, None]       # point i's energies
    for w in (2e-22, np.array([1e-22, 2e-22, 3e-22])):
        curves = EnergyCurves(U_TILDE_GRID, values, w, points=1)(energies)
        for p in range(3):
            for i in range(4):
                single = EnergyCurves(U_TILDE_GRID, values[p, i], np.broadcast_to(w, 3)[p])(energies[i])
                np.testing.assert_allclose(curves[p, i], single, rtol=1e-14)
    flat = EnergyCurves(U_TILDE_GRID, values[0, 0], 1.0)
    np.testing.assert_allclose(flat.at_fraction(np.array([1e-12, 10.0])), values[0, 0, [0, -1]], rtol=1e-14)


def kki_joint(rng):
    """c(T) and c(T, t) sharing η_c, log10 N (SYNTHETIC, from the models at their defaults, 2 % noise)."""
    parts = []
    for name, model, x in (("c", KKIHeatCapacityModel(), {"T": T}),
                           ("ct", KKITimeHeatModel(), {"T": np.tile(T[:4], 2), "t": np.repeat([10.0, 1e3], 4)})):
        params = model.make_params()
        for k in params:
            params[k].set(vary=k in ("eta_c", "log10_N"))
        y = model.eval(params, **x)
        parts.append(Objective(model, Dataset(x, y * (1 + 0.02 * rng.normal(size=y.size)), 0.02 * y, id=name,
                                              nature="synthetic"), params=params,
                               noise="scaled" if name == "ct" else "known"))
    return JointObjective(parts)


def test_logpost_batch_is_logpost_row_by_row(rng):
    joint = kki_joint(rng)
    theta = joint.theta()
    thetas = theta * (1 + 0.05 * rng.normal(size=(6, theta.size)))
    thetas[2, 0] = -1.0                                                      # outside the prior support
    batch = joint.logpost_batch(thetas)
    single = np.array([joint.logpost(t) for t in thetas])
    assert batch[2] == -np.inf and single[2] == -np.inf
    np.testing.assert_allclose(batch[[0, 1, 3, 4, 5]], single[[0, 1, 3, 4, 5]], rtol=1e-12)
    np.testing.assert_allclose(joint.residuals_batch(thetas[[0, 1]]), [joint.residuals(t) for t in thetas[:2]],
                               rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match=r"shape \(P, 3\)"):
        joint.logpost_batch(theta)


def test_logpost_batch_of_a_plain_lmfit_model_and_expressions():
    line = line_objective(noise="fitted")
    thetas = np.array([[1.0, 2.0, 0.05], [0.5, 2.5, 0.1], [20.0, 1.0, 0.1]])    # the last outside a's bounds
    np.testing.assert_allclose(line.logpost_batch(thetas), [line.logpost(t) for t in thetas], rtol=1e-13)
    model = line_model()
    params = model.make_params()
    params["b"].set(expr="2*a")
    x = np.linspace(0, 1, 5)
    tied = Objective(model, Dataset({"x": x}, 1 + 2 * x, 0.1), params=params)
    np.testing.assert_allclose(tied.logpost_batch(np.array([[0.5], [1.0]])), [tied.logpost([0.5]), tied.logpost([1.0])])


def test_a_failing_row_gets_minus_infinity_alone(caplog):
    def bad(x, a, b):
        if np.any(np.asarray(a) > 5):
            raise ValueError("a > 5")
        return np.asarray(a)[..., None] + np.asarray(b)[..., None] * x

    model = lmfit.Model(bad)
    model.evaluate_batch = lambda x, args: bad(x["x"], args["a"], args["b"])
    for name in ("a", "b"):
        model.set_param_hint(name, value=1.0, min=-10, max=10)
    x = np.linspace(0, 1, 4)
    obj = Objective(model, Dataset({"x": x}, 1 + x, 0.1))
    out = obj.logpost_batch(np.array([[1.0, 1.0], [6.0, 1.0]]))
    assert np.isfinite(out[0]) and out[1] == -np.inf and obj.n_nonfinite == 1


def test_the_batched_chain_is_the_walker_by_walker_chain(tmp_path):
    obj = stm_objective()
    start = sampling.initial_walkers(obj, 16, *optimize.least_squares(obj), rng=0)
    runs = [sampling.run(obj, tmp_path / f"{b}.h5", max_steps=60, nwalkers=16, start=start, seed=4, converge=False,
                         batched=b) for b in (True, False)]
    chains = [emcee.backends.HDFBackend(str(r.path), read_only=True).get_chain() for r in runs]
    np.testing.assert_allclose(chains[0], chains[1], rtol=1e-12)


def test_the_pool_takes_slices_of_the_batch(tmp_path):
    obj = stm_objective()
    start = sampling.initial_walkers(obj, 16, *optimize.least_squares(obj), rng=0)
    serial = sampling.run(obj, tmp_path / "s.h5", max_steps=20, nwalkers=16, start=start, converge=False)
    pooled = sampling.run(obj, tmp_path / "p.h5", max_steps=20, nwalkers=16, start=start, converge=False,
                          processes=2)
    chains = [emcee.backends.HDFBackend(str(r.path), read_only=True).get_chain() for r in (serial, pooled)]
    np.testing.assert_array_equal(chains[0], chains[1])


@pytest.mark.parametrize("method", ["multistart", "differential_evolution"])
def test_global_search_evaluates_its_population_as_a_batch(method, monkeypatch):
    obj = stm_objective()
    sizes = []
    batch = obj.residuals_batch
    monkeypatch.setattr(obj, "residuals_batch", lambda thetas: sizes.append(len(thetas)) or batch(thetas))
    with warnings.catch_warnings():
        warnings.simplefilter("error")                    # no warning from scipy about the updating scheme
        found = optimize.map_fit(obj, method=method, seed=1)
    assert max(sizes) >= 20
    np.testing.assert_allclose(found.theta, optimize.map_fit(obj, method="none").theta, rtol=1e-5)



@pytest.mark.parametrize("p", [1, 2])
@pytest.mark.parametrize("g_shape", ["curve1", "curve2"])
def test_on_nodes_is_the_distribution_times_the_weight(p, g_shape, rng):
    from glassfit.distributions import KKIDistribution

    eta, xi = rng.uniform(-4.0, 2.0, (5, 7)), rng.uniform(-3.0, 3.0, (5, 7))
    weight = rng.uniform(0.0, 2.0, (5, 7))
    weight[0, :3] = 0.0                                                  # an empty panel
    sets = [(0.7, 1.1, 3e26), (0.9, 1.4, 1e27)]
    with trusted_inputs():                                               # batches of parameters are trusted only
        batch = KKIDistribution(*(np.array(c) for c in zip(*sets, strict=True)), p=p, g_shape=g_shape)
    for i, (eta_c, xi_c, n) in enumerate(sets):
        single = KKIDistribution(eta_c, xi_c, n, p=p, g_shape=g_shape)
        expected = weight * single(eta, xi)
        np.testing.assert_allclose(single.on_nodes(eta, xi, 2, weight), expected, rtol=1e-13)
        np.testing.assert_allclose(batch.on_nodes(eta, xi, 2, weight)[i], expected, rtol=1e-13)
        scaled = batch.on_nodes(np.stack([eta, 1.1 * eta]), np.stack([xi, xi]), 2, weight)[i]   # per-set nodes
        np.testing.assert_allclose(scaled, weight * single([eta, 1.1 * eta][i], xi), rtol=1e-13)


@pytest.mark.parametrize("name", ["black_time_heat", "kki_time_heat", "stm_attenuation", "kki_attenuation"])
def test_batch_broadcasts_a_grid_against_a_number(name, rng):
    """A band over T at one time or frequency (what the fit plots ask): the independent variables broadcast."""
    model = REGISTRY[name]()
    second = {"t": 10.0, "f": 1e6}[model.independent[1] if model.independent[0] == "T" else model.independent[0]]
    x = {n: (T if n == "T" else second) for n in model.independent}
    values = draws(model, rng, 2)
    full = {n: np.broadcast_to(v, T.shape) for n, v in x.items()}
    np.testing.assert_allclose(model.evaluate_batch(x, values), one_by_one(model, full, values), rtol=1e-12)


def test_a_failing_expression_does_not_poison_the_next_evaluations():
    model = line_model()
    params = model.make_params()
    params["b"].set(expr="max(a, 0.5)")                 # fails for an array (ambiguous truth), fine for a number
    x = np.linspace(0, 1, 5)
    tied = Objective(model, Dataset({"x": x}, 1 + x, 0.1), params=params)
    thetas = np.array([[0.2], [1.0], [2.0]])
    np.testing.assert_allclose(tied.logpost_batch(thetas), [tied.logpost(t) for t in thetas], rtol=1e-13)
    assert np.all(np.isfinite(tied.logpost_batch(thetas))) and np.isfinite(tied.logpost([1.0]))


def test_energy_curves_choose_the_interpolant_set_by_set():
    rng = np.random.default_rng(5)
    values = np.exp(rng.normal(size=(3, U_TILDE_GRID.size)))
    values[1, :4] = 0.0                                      # one set with vanishing values: a PCHIP for it alone
    energies = np.geomspace(1e-25, 1e-22, 9)
    batch = EnergyCurves(U_TILDE_GRID, values, 2e-22)(energies)
    for p in range(3):
        np.testing.assert_allclose(batch[p], EnergyCurves(U_TILDE_GRID, values[p], 2e-22)(energies), rtol=1e-14)


def test_a_new_model_is_evaluated_set_by_set_unless_it_says_it_is_vectorised():
    from glassfit.contract import ParameterSpec
    from glassfit.models.base import GlassModel

    class Scalar(GlassModel):
        name_id = "scalar_test"

        def kernel(self, T, a):
            return float(a) * T                              # a kernel written for one parameter set

    model = Scalar([ParameterSpec("a", "1", 1.0, (0.0, 10.0), "a", "slope")])
    out = model.evaluate_batch({"T": T[:3]}, {"a": np.array([1.0, 2.0, 3.0])})
    np.testing.assert_array_equal(out, np.outer([1.0, 2.0, 3.0], T[:3]))


def test_batch_checks_positive_quantities_as_the_single_path_does():
    model = KKIConductivityModel()
    defaults = model.table_values(model.make_params())
    with pytest.raises(ValueError, match="v_l must be > 0"):
        model.evaluate_batch({"T": T}, defaults | {"v_l": np.array([5800.0, -5800.0])})
    with pytest.raises(ValueError, match="v_l must be > 0"):
        model.eval(T=T, **defaults | {"v_l": -5800.0})


def test_a_subclass_of_the_distribution_keeps_its_own_formula(rng):
    from glassfit.distributions import KKIDistribution

    class Flatter(KKIDistribution):
        def g(self, xi):
            return 0.5 * super().g(xi) + 0.5 * super().g(0.5 * xi) * 0.5

    eta, xi, weight = rng.uniform(-3, 2, (4, 6)), rng.uniform(-2, 2, (4, 6)), rng.uniform(0, 1, (4, 6))
    flatter = Flatter(0.8, 1.2, 1e27)
    np.testing.assert_allclose(flatter.on_nodes(eta, xi, 2, weight), weight * flatter(eta, xi), rtol=1e-14)
    assert not np.allclose(flatter.on_nodes(eta, xi, 2, weight), KKIDistribution(0.8, 1.2, 1e27).on_nodes(
        eta, xi, 2, weight))
