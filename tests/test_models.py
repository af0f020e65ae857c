import pickle

import numpy as np
import pytest

from glassfit import constants, contract
from glassfit.models import REGISTRY, KKIHeatCapacityModel, Reference, STMHeatCapacityModel

T = np.geomspace(0.05, 1.0, 25)


def independent(model, temps=T):
    """Values of every independent variable of ``model``: temperatures, 1 MHz for frequencies (5 GHz for a
    resonator), 10 s for times, 100 photons, 1.5 T before a quench."""
    f = 5e9 if "resonator" in model.name_id else 1e6
    values = {"T": temps, "f": np.full(temps.shape, f), "t": np.full(temps.shape, 10.0),
              "n": np.full(temps.shape, 100.0), "T1": 1.5 * temps}
    return {name: values[name] for name in model.independent}


def signed(name):
    """Whether model ``name`` gives a signed shift (δv/v, δf/f) rather than a positive quantity."""
    return name.endswith(("velocity", "shift"))


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_model_is_finite_over_random_draws(name, rng):
    model = REGISTRY[name]()
    for _ in range(15):
        y = model.eval(model.random(rng), **independent(model))
        assert y.shape == T.shape and np.all(np.isfinite(y))
        if not signed(model.name_id):                       # δv/v, δf/f are signed shifts
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


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_reference_values(name):
    model = REGISTRY[name]()
    assert isinstance(model.reference, Reference), f"{name} has no reference case"
    values, x, expected, rtol = model.reference
    assert set(x) == set(model.independent) and set(values) <= set(model.param_names) and rtol <= 1e-7
    params = model.make_params(**{k: dict(value=v) for k, v in values.items()})
    value = model.eval(params, **{k: np.array([v]) for k, v in x.items()})[0]
    assert value == pytest.approx(expected, rel=rtol, abs=0.0)


def test_closed_form_references():
    # the closed forms of the STM references, written out here from scipy's constants (physics.md §4.1, §5.2–5.4, §6)
    from scipy import constants as sc
    from scipy.special import digamma

    from glassfit.models import STMAttenuationModel, STMConductivityModel, STMVelocityModel

    c_debye = 2 * np.pi**2 * sc.k**4 / (15 * sc.hbar**3) * (1 / 5800.0**3 + 2 / 3750.0**3)      # physics.md §4.2
    assert STMHeatCapacityModel.reference.expected == pytest.approx(
        (np.pi**2 / 6 * 1e45 * sc.k**2 + c_debye) / 2200.0 / 1000.0, rel=1e-12, abs=0.0)
    assert STMConductivityModel.reference.expected == pytest.approx(0.02953413574194858, rel=1e-12, abs=0.0)
    omega, kT = 2 * np.pi * 1e9, sc.k * 0.1
    c_l = 1e45 * sc.eV**2 / (2200.0 * 5800.0**2)
    k_tau = (sc.eV**2 / 5800.0**5 + 2 * (0.65 * sc.eV) ** 2 / 3750.0**5) / (2 * np.pi * 2200.0 * sc.hbar**4)
    assert 1 / (k_tau * kT**3 / np.tanh(0.5)) * omega > 5e4                  # ωτ_min(kT) ≫ 1: the relaxation limit
    q = np.pi * c_l * np.tanh(sc.hbar * omega / (2 * kT)) + np.pi**4 / 12 * c_l * k_tau * kT**3 / omega
    assert STMAttenuationModel.reference.expected == pytest.approx(q, rel=1e-13, abs=0.0)
    dv = c_l * (digamma(0.5 + sc.hbar * omega / kT / (2j * np.pi)).real + np.log(0.1))
    assert STMVelocityModel.reference.expected == pytest.approx(dv, rel=1e-13, abs=0.0)


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


def test_weighted_fit_keeps_the_stated_sigma():
    # c is linear in (P̄, c3): the known-σ covariance is (AᵀA)⁻¹ (to the finite-difference Jacobian, 1e-3), whatever
    # the scatter (here 0.2 σ)
    model = STMHeatCapacityModel(output="J/(m3 K)", phonons="free")
    clean = model.eval(model.make_params(P0=dict(value=0.86), c3=dict(value=3.1)), T=T)
    sigma = 0.01 * clean
    data = clean + 0.2 * sigma * np.random.default_rng(5).standard_normal(T.size)
    design = np.column_stack([np.pi**2 / 6 * 1e45 * constants.k_B**2 * T, T**3]) / sigma[:, None]
    expected = np.sqrt(np.diag(np.linalg.inv(design.T @ design)))
    result = model.fit(data, model.guess(data, T=T), T=T, weights=1 / sigma)
    assert result.redchi < 0.2
    np.testing.assert_allclose([result.params["P0"].stderr, result.params["c3"].stderr], expected, rtol=1e-3)
    rescaled = model.fit(data, model.guess(data, T=T), T=T, weights=1 / sigma, scale_covar=True)
    assert rescaled.params["P0"].stderr == pytest.approx(expected[0] * np.sqrt(rescaled.redchi), rel=1e-3)


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


# --- c(T) at the measurement time -------------------------------------------------------------------------------

def _values(model, **changes):
    return {k: p.value for k, p in model.make_params().items() if k != "N"} | changes


@pytest.mark.parametrize("window", ["step", "exponential"])
def test_stm_heat_capacity_at_t_exp_is_black(window):
    from glassfit.models import BlackTimeHeatModel

    model = STMHeatCapacityModel(t_exp=3.0, window=window)
    black = BlackTimeHeatModel(window=window)
    values = _values(model, P0=0.7, gamma_l=1.2)
    np.testing.assert_array_equal(model.eval(T=T, **values), black.eval(T=T, t=np.full(T.shape, 3.0), **values))
    extra = {s.name: s.vary for s in model.parameter_table if s.name not in {"P0", "v_l", "v_t", "rho"}}
    assert extra == {"gamma_l": False, "gamma_t": False}


def test_stm_heat_capacity_at_t_exp_follows_blacks_asymptote():
    # c(t) → (π²/12) P̄ k² T ln(4t/τ_min(E*)) to < 1e-4 for ln(t K_τ (kT)³) ≥ 5 (physics.md §7.1, §9 item 19)
    from glassfit.observables import scattering, timeheat

    model = STMHeatCapacityModel(t_exp=1.0, output="J/(m3 K)", phonons="free")
    c = model.eval(T=T, **_values(model, c3=0.0))
    k_tau = scattering.relaxation_constant(constants.eV, 0.65 * constants.eV, 2200.0, 5800.0, 3750.0)
    np.testing.assert_allclose(c, timeheat.black_asymptote(T, 1.0, 1e45, k_tau), rtol=1e-4)


def test_kki_heat_capacity_at_t_exp_is_the_time_heat_model():
    from glassfit.models import KKITimeHeatModel

    model = KKIHeatCapacityModel(t_exp=1.0)
    values = _values(model, eta_c=0.8, xi_c=1.2)
    np.testing.assert_array_equal(model.eval(T=T, **values),
                                  KKITimeHeatModel().eval(T=T, t=np.full(T.shape, 1.0), **values))
    assert {s.name for s in model.parameter_table if not s.vary} >= {"chi_1", "chi_2", "chi_t_ratio", "rho"}
    again = pickle.loads(pickle.dumps(model))
    assert again.t_exp == 1.0 and again.param_names == model.param_names
    np.testing.assert_array_equal(again.eval(T=T, **values), model.eval(T=T, **values))


def test_kki_heat_capacity_at_long_t_exp_is_the_equilibrium():
    # every TLS in the tables relaxes by t = 1e200 s; the rest (A_b > 40, never relaxing) is 1.6e-6 of c at
    # the reference glass (0.4 % at the η_c, ξ_c bound corner)
    long = KKIHeatCapacityModel(t_exp=1e200)
    equilibrium = KKIHeatCapacityModel()
    values = _values(long)
    np.testing.assert_allclose(long.eval(T=T, **values),
                               equilibrium.eval(T=T, **{k: values[k] for k in equilibrium.param_names}), rtol=2e-6)


def test_t_exp_options_are_checked_and_guess_works():
    with pytest.raises(ValueError, match="t_exp"):
        STMHeatCapacityModel(t_exp=-1.0)
    with pytest.raises(ValueError, match="window"):
        KKIHeatCapacityModel(t_exp=1.0, window="box")
    with pytest.raises(ValueError, match="two-level"):
        KKIHeatCapacityModel(t_exp=1.0, multilevel=True)
    model = STMHeatCapacityModel(t_exp=10.0, output="J/(m3 K)", phonons="free")
    data = model.eval(T=T, **_values(model, P0=2.0, c3=5.0))
    guess = model.guess(data, T=T)
    assert (guess["P0"].value, guess["c3"].value) == (pytest.approx(2.0, rel=1e-9), pytest.approx(5.0, rel=1e-9))


# --- bounds ------------------------------------------------------------------------------------------------------

def test_kki_bounds_keep_double_wells_a_minority():
    from glassfit.distributions import KKIDistribution

    model = KKIHeatCapacityModel()
    (eta_lo, eta_hi), (xi_lo, xi_hi) = model.spec("eta_c").bounds, model.spec("xi_c").bounds
    assert (eta_hi, xi_hi, model.spec("log10_N").bounds[1]) == (1.5, 1.7, 29.0)
    corner = KKIDistribution(eta_hi, xi_hi, 1.0).double_well_fraction(0.0442, 0.2102)
    assert corner == pytest.approx(0.29533, abs=1e-5) and "29.5 %" in model.spec("eta_c").description
    for eta_c, xi_c in ((0.3, 0.75), (0.8, 1.2)):
        assert eta_lo < eta_c < 0.6 * eta_hi and xi_lo < xi_c < 0.75 * xi_hi


@pytest.mark.parametrize("name", sorted(n for n in REGISTRY if n.startswith("kki")))
def test_kki_models_evaluate_at_the_bound_corner(name):
    model = REGISTRY[name]()
    values = _values(model, eta_c=1.5, xi_c=1.7, log10_N=29.0)
    y = model.eval(**independent(model), **values)
    assert np.all(np.isfinite(y)) and (signed(name) or np.all(y > 0))


# --- derived quantities and validity warnings ------------------------------------------------------------------

UNITS = {"n_amplitude": "J^-1 m^-3", "n_slope": "1", "double_well_fraction": "1", "C_eff": "1", "mu": "1",
         "kappa_T2": "W m^-1 K^-3", "C_v_l": "m s^-1", "C_l": "1", "Fdelta0_eff": "1"}
EXPECTED = {"stm_heat_capacity": set(), "black_time_heat": set(), "stm_conductivity": {"kappa_T2", "C_v_l"},
            "stm_attenuation": {"C_l"}, "stm_velocity": {"C_l"},
            "kki_heat_capacity": {"n_amplitude", "n_slope", "double_well_fraction"},
            "stm_resonator_loss": set(), "stm_resonator_shift": set(),
            "kki_resonator_loss": {"Fdelta0_eff", "mu", "double_well_fraction"},
            "kki_resonator_shift": {"Fdelta0_eff", "mu", "double_well_fraction"}, "black_heat_release": set()}


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_model_reports_derived_quantities_and_warnings(name):
    model = REGISTRY[name]()
    values, x = _values(model), independent(model)
    derived = model.derived_quantities(values, x)
    assert set(derived) == EXPECTED.get(name, {"C_eff", "mu", "double_well_fraction"})
    for key, (value, unit, description) in derived.items():
        assert np.isfinite(value) and unit == UNITS[key] and description
    warnings = model.validity_warnings(values, x)
    # T = 0.05–1 K: only 1 K exceeds w/25 = 0.904 K (for the heat release T1 = 1.5 T: 5 of 25, up to 1.5 K)
    expected = [] if name.startswith("stm") or name.startswith("black") else [
        "kT > w/25 at 5 of 25 points (T up to 1.5 K; the two-level description needs kT ≲ w/25 = 0.904 K)"
        if name == "kki_heat_release" else
        "kT > w/25 at 1 of 25 points (T up to 1 K; the two-level description needs kT ≲ w/25 = 0.904 K)"]
    assert warnings == expected


def test_stm_conductivity_derived_quantities_are_the_closed_form():
    from scipy import constants as sc

    from glassfit.models import STMConductivityModel

    model = STMConductivityModel()
    values = _values(model, C=2.0, v_l=5000.0, v_t=3000.0)
    derived = model.derived_quantities(values, {"T": T})
    # physics.md §9 item 15: κ/T² = k³/(6πħ²) Σ_α 1/(C_α v_α), the transverse branch twice
    expected = sc.k**3 / (6 * np.pi * sc.hbar**2) * (1 / (2e-4 * 5000.0) + 2 / (2e-4 * 3000.0))
    assert derived["kappa_T2"][0] == pytest.approx(expected, rel=1e-12)
    assert derived["C_v_l"][0] == pytest.approx(2e-4 * 5000.0, rel=1e-15)
    # and the model's κ(1 K) with a negligible Rayleigh term (< 1e-8)
    kappa = model.eval(T=np.array([1.0]), **(values | {"log10_A_R": -50.0}))[0]
    assert kappa == pytest.approx(derived["kappa_T2"][0], rel=1e-7)


@pytest.mark.parametrize("branch", ["l", "t"])
def test_stm_acoustic_strength(branch):
    from glassfit.models import STMAttenuationModel

    model = STMAttenuationModel(branch=branch)
    values = _values(model, P0=0.86, gamma_l=1.0, gamma_t=0.65)
    gamma, v = {"l": (1.0, 5800.0), "t": (0.65, 3750.0)}[branch]
    value, unit, _ = model.derived_quantities(values, {"f": T, "T": T})[f"C_{branch}"]
    assert value == pytest.approx(0.86e45 * (gamma * constants.eV) ** 2 / (2200.0 * v**2), rel=1e-13) and unit == "1"


@pytest.mark.parametrize("shape", [(0.5, 0.5), (0.8, 1.2)])
def test_kki_coupling_strength_and_slope(shape):
    from glassfit.density import coupling_density
    from glassfit.models import KKIConductivityModel, kki_material, log_slope
    from glassfit.observables.conductivity import kki_coupling
    from glassfit.potential import PotentialScales

    model = KKIConductivityModel()
    values = _values(model, eta_c=shape[0], xi_c=shape[1], chi_1=1.3, chi_2=0.8)
    derived = model.derived_quantities(values, {"T": T})
    t_ref = np.exp(np.mean(np.log(T)))
    scales, dist = kki_material(values)
    in_y = PotentialScales(scales.w, scales.eta_L, scales.xi_L, length=1.0)

    def coupling(E):       # Σ_j χ_j² X_j(E) from the exact quadrature at E (no interpolation)
        x1, x2 = coupling_density(np.atleast_1d(E), in_y, dist)
        return (1.3 * constants.eV) ** 2 * x1 + (0.8 * constants.eV) ** 2 * x2

    E = 3 * constants.k_B * t_ref
    assert derived["C_eff"][0] == pytest.approx(coupling(E)[0] / (2200.0 * 5800.0**2), rel=2e-6)
    exact_slope = np.log(coupling(E * np.exp(0.05))[0] / coupling(E * np.exp(-0.05))[0]) / 0.1
    assert derived["mu"][0] == pytest.approx(exact_slope, abs=2e-5)
    # the spline's slope by a centred difference ten times wider
    spline = kki_coupling(scales, dist, 1.3 * constants.eV, 0.8 * constants.eV)
    assert derived["mu"][0] == pytest.approx(log_slope(spline, E, 1e-2), abs=1e-4)
    # at 3 k T_ref = 0.1 w the strength is the model's C^KKI_l (physics.md §5.2)
    at = model.derived_quantities(values, {"T": np.array([0.1 * 22.6 / 3])})["C_eff"][0]
    assert at == pytest.approx(model.strength("l", values), rel=1e-12)
    assert derived["double_well_fraction"][0] == dist.double_well_fraction(0.0442, 0.2102)


@pytest.mark.parametrize("shape", [(0.5, 0.5), (0.8, 1.2)])
def test_kki_heat_capacity_density_amplitude_and_slope(shape):
    from glassfit.density import tls_density
    from glassfit.models import kki_material, log_slope
    from glassfit.observables.heat import kki_tls_density_spline

    model = KKIHeatCapacityModel()
    values = _values(model, eta_c=shape[0], xi_c=shape[1])
    derived = model.derived_quantities(values, {"T": T})
    u = constants.k_B * np.exp(np.mean(np.log(T)))
    scales, dist = kki_material(values)

    def n(u):
        return sum(tls_density(np.atleast_1d(u), scales, dist))[0]

    assert derived["n_amplitude"][0] == pytest.approx(n(u), rel=2e-6)
    assert derived["n_slope"][0] == pytest.approx(np.log(n(u * np.exp(0.05)) / n(u * np.exp(-0.05))) / 0.1, abs=1e-5)
    assert derived["n_slope"][0] == pytest.approx(log_slope(kki_tls_density_spline(scales, dist), u, 1e-2), abs=1e-4)


def test_kki_validity_warnings():
    temps = np.geomspace(0.1, 2.0, 12)                      # 3 points above w/25 = 0.904 K
    model = KKIHeatCapacityModel()
    values = _values(model)
    assert model.validity_warnings(values, {"T": temps}) == [
        "kT > w/25 at 3 of 12 points (T up to 2 K; the two-level description needs kT ≲ w/25 = 0.904 K)"]
    multi = KKIHeatCapacityModel(multilevel=True)
    assert multi.validity_warnings(values, {"T": temps}) == []
    assert multi.validity_warnings(values, {"T": np.geomspace(0.1, 40.0, 12)}) == [
        "kT > w at 2 of 12 points (T up to 40 K; the multilevel sum needs kT ≲ w = 22.6 K)"]
    # broad h and g (outside the bounds): 4–5 % of the TLS at kT lie beyond A_b = 40
    broad = values | {"eta_c": 3.0, "xi_c": 3.0}
    deep = model.validity_warnings(broad, {"T": np.array([0.05, 0.3])})
    assert deep == ["more than 1% of the TLS of energy kT lie beyond the doublet tables (A_b > 40, J < 1e-49 w) at "
                    "2 of 2 points (up to 5.5%): they count in the equilibrium c but never relax in a measurement; "
                    "set t_exp"]
    assert KKIHeatCapacityModel(t_exp=1.0).validity_warnings(broad | {"chi_1": 1.0}, {"T": np.array([0.05])}) == []


def test_describe_lists_every_row_of_every_model():
    from glassfit.models import describe

    for name, cls in REGISTRY.items():
        text = describe(name)
        assert all(f"\n{spec.name:13}" in text for spec in cls().parameter_table)


# --- the table is the only source: card, units, SI kernels ----------------------------------------------------------

OUTPUTS = {"stm_heat_capacity": "J/(g K)", "kki_heat_capacity": "J/(g K)", "black_time_heat": "J/(g K)",
           "kki_time_heat": "J/(g K)", "stm_conductivity": "W/(m K)", "kki_conductivity": "W/(m K)",
           "stm_attenuation": "Q^-1", "kki_attenuation": "Q^-1", "stm_velocity": "1", "kki_velocity": "1",
           "stm_resonator_loss": "1/Q", "kki_resonator_loss": "1/Q", "stm_resonator_shift": "1",
           "kki_resonator_shift": "1", "black_heat_release": "W/g", "kki_heat_release": "W/g"}


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_model_carries_its_card(name):
    model = REGISTRY[name]()
    card = model.card
    assert isinstance(model, contract.Carded) and contract.card_of(model) is card
    assert (card.name, card.independent, card.output) == (model.name_id, model.independent, OUTPUTS[name])
    assert model.output == card.output
    table = [row.name for row in model.parameter_table]
    derived = ["N"] if name.startswith("kki") else []
    assert list(card.rows) == table + derived
    params = model.make_params()
    for row in card.rows.values():
        assert model.spec(row.name) is row
        if row.expr is None:
            assert isinstance(row.unit, constants.Unit) and params[row.name].expr is None
        else:
            assert params[row.name].expr == row.expr
    if derived:
        assert params["N"].value == pytest.approx(10 ** params["log10_N"].value, rel=1e-15)
        assert card.unit("N") == "m^-3" and card.row("N").expr == "10**log10_N"
    assert pickle.loads(pickle.dumps(model)).card == card


def test_rows_convert_to_si_for_the_kernels():
    from glassfit.models import KKIConductivityModel, STMAttenuationModel, STMConductivityModel

    kki = KKIConductivityModel(plateau="spm", boundary=True)
    si = kki.si(_values(kki, log10_N=27.3, w=20.0, chi_1=1.5, W=3.0, L=0.5))
    assert (si["N"], si["w"], si["chi_1"], si["W"], si["L"]) == (10.0**27.3, 20.0 * constants.k_B,
                                                                  1.5 * constants.eV, 3.0 * constants.k_B, 0.5)
    assert "log10_N" not in si and si["eta_c"] == 0.8 and si["rho"] == 2200.0
    # products formed in table units, then converted: χ_jt = (χ_t/χ_l) χ_j [eV]
    ratio = 1 / 1.64
    assert (si["chi_1t"], si["chi_2t"]) == (ratio * 1.5 * constants.eV, ratio * 0.49 * constants.eV)
    stm = STMConductivityModel()
    assert (stm.si(_values(stm, C=2.5))["C"], stm.si(_values(stm, log10_A_R=-42.0))["A_R"]) == (2.5 * 1e-4, 10.0**-42.0)
    acoustic = STMAttenuationModel(output="dB/m")
    values = _values(acoustic, P0=0.7, gamma_t=0.5)
    si = acoustic.si(values)
    assert (si["P0"], si["gamma_t"]) == (0.7 * 1e45, 0.5 * constants.eV)
    x = {"f": np.array([1e7]), "T": np.array([0.2])}
    # the model is its SI kernel behind the rows' conversions; dB/m = (10/ln 10) l⁻¹
    expected = acoustic.kernel(**x, **si) * 10.0 / np.log(10.0)
    np.testing.assert_allclose(acoustic.eval(**x, **values), expected, rtol=1e-15)


# --- guesses --------------------------------------------------------------------------------------------------------

#: the amplitude each model's guess sets, data generated there (the rest at the defaults), and how closely the guess
#: must recover it: exact (to rounding) where the model is proportional to the amplitude; the equilibrium KKI c is
#: scaled above the model at log10 N = 20 (a TLS part 1e-8 of the default), κ is taken ∝ 1/amplitude
RECOVERY = {"stm_heat_capacity": ("P0", 2.5, 1e-9), "black_time_heat": ("P0", 2.5, 1e-9),
            "stm_attenuation": ("P0", 2.5, 1e-9), "stm_velocity": ("P0", 2.5, 1e-9),
            "kki_attenuation": ("log10_N", 27.2, 1e-9), "kki_velocity": ("log10_N", 27.2, 1e-9),
            "kki_heat_capacity": ("log10_N", 27.2, 1e-7), "kki_time_heat": ("log10_N", 27.2, 1e-7),
            "stm_conductivity": ("C", 8.0, 1e-2), "kki_conductivity": ("log10_N", 27.2, 2e-4),
            "stm_resonator_loss": ("Fdelta0", 2.5, 1e-9), "stm_resonator_shift": ("Fdelta0", 2.5, 1e-9),
            "kki_resonator_loss": ("log10_N", 27.2, 1e-9), "kki_resonator_shift": ("log10_N", 27.2, 1e-9),
            "black_heat_release": ("P0", 2.5, 1e-9), "kki_heat_release": ("log10_N", 27.2, 1e-9)}


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_guess_recovers_the_amplitude(name):
    model = REGISTRY[name]()
    amplitude, true, tolerance = RECOVERY[name]
    assert model.amplitude == amplitude
    truth = {amplitude: true} | ({"dv0": 3e-5} if "dv0" in model.param_names else {})
    x = independent(model)
    data = model.eval(**x, **_values(model, **truth))
    guess = model.guess(data, **x)
    for key, value in truth.items():
        assert guess[key].value == pytest.approx(value, rel=tolerance, abs=0.0)
    assert abs(guess[amplitude].value - true) < abs(model.spec(amplitude).default - true)


def _misfit(model, params, data, x):
    y = model.eval(params, **x)
    return np.sqrt(np.mean((y - data) ** 2 if model.output == "1" else np.log(y / data) ** 2))


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_guess_of_other_parameters_beats_the_defaults(name):
    # data of the model at random draws of every free parameter (seeded): the guessed curve is closer to them than
    # the defaults' (rms of ln y, or of δv/v)
    model = REGISTRY[name]()
    x = independent(model)
    for seed in range(4):
        data = model.eval(model.random(seed), **x)
        assert _misfit(model, model.guess(data, **x), data, x) < _misfit(model, model.make_params(), data, x)


def test_guess_takes_lmfit_keywords_and_needs_the_independent_variables():
    from glassfit.models import STMAttenuationModel

    model = STMHeatCapacityModel()
    data = model.eval(model.make_params(P0=dict(value=3.0)), T=T)
    assert model.guess(data, x=T)["P0"].value == pytest.approx(3.0, rel=1e-9)
    assert model.guess(data, T=T, P0=0.5)["P0"].value == 0.5
    with pytest.raises(ValueError, match="guess needs the independent variables"):
        model.guess(data)
    with pytest.raises(ValueError, match=r"\['f'\]"):
        STMAttenuationModel().guess(data, T=T)


# --- the package ----------------------------------------------------------------------------------------------------

def test_no_module_imports_another_modules_private_name():
    import ast
    from pathlib import Path

    import glassfit.models

    for path in Path(glassfit.models.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("glassfit"):
                private = [alias.name for alias in node.names if alias.name.startswith("_")]
                assert not private, f"{path.name} imports {private} from {node.module}"


def test_describe_shows_the_derived_rows():
    from glassfit.models import describe

    text = describe("kki_conductivity")
    assert "\nN            m^-3" in text and "= 10**log10_N" in text
    assert "output: 1" in describe("stm_velocity")


def test_black_models_with_a_tunnel_splitting_cutoff():
    from glassfit.models import BlackHeatReleaseModel, BlackTimeHeatModel

    T, t = np.full(5, 0.1), np.geomspace(1e-3, 1e9, 5)
    plain, cut = BlackTimeHeatModel(window="exponential"), BlackTimeHeatModel(window="exponential", cutoff=True)
    assert [r.name for r in cut.parameter_table][-1] == "D0_min" and "D0_min" not in plain.param_names
    values = _values(plain)
    np.testing.assert_allclose(cut.eval(**values, D0_min=1e-14, T=T, t=t), plain.eval(**values, T=T, t=t), rtol=1e-8)
    saturated = cut.eval(**values, D0_min=1e-4, T=T, t=t)
    assert saturated[-1] < 0.9 * plain.eval(**values, T=T, t=t)[-1]
    assert pickle.loads(pickle.dumps(cut)).cutoff
    release, cut_release = BlackHeatReleaseModel(), BlackHeatReleaseModel(cutoff=True)
    x = {"t": t, "T": T, "T1": 3 * T}
    np.testing.assert_allclose(cut_release.eval(**_values(release), D0_min=1e-14, **x),
                               release.eval(**_values(release), **x), rtol=1e-7)
