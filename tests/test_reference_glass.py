"""The KKI reference glass: one parameter set that reproduces vitreous silica (a-SiO2) at literature magnitudes.

REFERENCE_A_SIO2 below is the default set of the KKI models (the first test checks every model's defaults
against it; the others evaluate the models at their defaults).  Only η_c, ξ_c, log10 N and the couplings
χ_1 = χ_2 differ from the earlier defaults (0.5, 0.5, 27, 1 eV, 1 eV: c_TLS 470× and C 40–100× too small); the
potential scales (w, η_L, ξ_L: physics.md §1.4, ε = 1 K, A = B = C = 1 eV), χ_t/χ_l and the a-SiO2 phonon
constants (physics.md §8) are unchanged.  How it was chosen: N fixes c_TLS/T at 0.1 K; the shape (η_c, ξ_c)
was scanned for comparable populations of both KKI types (n_1/n_2 ≈ 2) with a small double-well fraction
(≈ 10 %); χ_1 = χ_2 then minimises the largest log deviation of C_l, C_t, κ/T² (0.1–0.9 K) and the
relaxation plateaus from the literature values below (minimax factor 1.44).

Literature values (a-SiO2; all SI unless noted):

* c_TLS/T ≈ 1.0 µJ g⁻¹ K⁻² at 0.1 K — Zeller & Pohl, PRB 4, 2029 (1971); Stephens, PRB 8, 2896 (1973)
  (c = c_1 T + c_3 T³ with c_1 = 7–50 erg g⁻¹ K⁻² over glasses, vitreous silica near the low end).
* tunnelling strength C_l ≈ C_t ≈ 3 × 10⁻⁴ — Berret & Meissner, Z. Phys. B 70, 65 (1988); Pohl, Liu &
  Thompson, RMP 74, 991 (2002) (C ≈ 1–5 × 10⁻⁴ for all glasses); physics.md §8.
* κ/T² = k³/(6πħ²C) Σ_α 1/v_α = 0.0295 W m⁻¹ K⁻³ at C = 3 × 10⁻⁴ — the STM closed form (physics.md §6),
  which is the measured magnitude of a-SiO2 below 1 K (Zeller & Pohl 1971; Stephens 1973: κ ∝ T^(1.9 ± 0.1)).
* relaxation plateau Q⁻¹ ≈ (π/2) C ≈ 4.5 × 10⁻⁴ — Pohl, Liu & Thompson 2002; physics.md §8 (C_t-based).
* deformation potentials γ_l ≈ 1.0 eV, γ_t ≈ 0.65 eV — Berret & Meissner 1988; physics.md §8.  The KKI
  D_j = χ_j δy_eff is ∂Δ/∂e = 2γ (physics.md §0, §5.1), so D_j/2 is compared with γ.

Tolerance: a factor 1.5 either way for every magnitude.  The literature values themselves scatter by
±30–50 % between samples (Suprasil I/W, OH content), techniques and frequencies, and the KKI C(E) of this
set rises by a factor 1.5 between 0.1 and 0.9 K (κ ∝ T^1.8), so no constant STM value can be matched
closer over the whole decade.  Validity: TLS-only KKI forms need kT ≲ w/25 (0.9 K here,
glassfit/observables/conductivity.py), so the top temperature is 0.9 K and the relaxation plateau is taken
at 10 kHz, where ωτ_min(kT) ≪ 1 already at 0.5 K (at MHz the plateau would lie above 2 K, out of range).

Exact numbers (computed here, rel 1e-3) pin the set against regressions.
"""

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.special import erfc

from glassfit import constants
from glassfit.distributions import KKIDistribution
from glassfit.models import KKIAttenuationModel, KKIConductivityModel, KKIHeatCapacityModel, kki_chi, kki_material
from glassfit.observables.conductivity import kki_coupling, stm_conductivity
from glassfit.observables.heat import debye_heat_capacity
from glassfit.potential import TYPE_1, TYPE_2, classify

REFERENCE_A_SIO2 = {
    "eta_c": 0.8,
    "xi_c": 1.2,
    "log10_N": 27.78,            # N = 6.0e27 m^-3 (0.27 per SiO2 unit; atomic density 6.6e28)
    "w": 22.6,                   # K
    "eta_L": 0.0442,
    "xi_L": 0.2102,
    "chi_1": 0.49,               # eV per unit y
    "chi_2": 0.49,               # eV per unit y
    "chi_t_ratio": 1 / 1.64,
    "rho": 2200.0,               # kg m^-3
    "v_l": 5800.0,               # m s^-1
    "v_t": 3750.0,               # m s^-1
}

FACTOR = 1.5
C_TLS_OVER_T = 1.0e-6            # J g^-1 K^-2 at 0.1 K
C_TUNNEL = 3e-4
Q_PLATEAU = 4.5e-4
GAMMA = {"l": 1.0, "t": 0.65}    # eV
T_RANGE = np.array([0.1, 0.3, 0.9])   # K, kT ≤ w/25


def within_factor(value, target, factor=FACTOR):
    value = np.asarray(value, float)
    return bool(np.all((value >= target / factor) & (value <= target * factor)))


def reference_params(model):
    """The model's default Parameters (the reference glass)."""
    return model.make_params()


@pytest.mark.parametrize("cls", [KKIHeatCapacityModel, KKIConductivityModel, KKIAttenuationModel])
def test_model_defaults_are_the_reference_glass(cls):
    params = cls().make_params()
    shared = sorted(set(params) & set(REFERENCE_A_SIO2))
    assert len(shared) >= 6
    assert {n: params[n].value for n in shared} == {n: REFERENCE_A_SIO2[n] for n in shared}


def tunnelling_strength(branch, T):
    """C_α^KKI = Σ_j χ_jα² X_j(E)/(ρ v_α²) at E = kT (physics.md §5.2)."""
    values = reference_params(KKIConductivityModel()).valuesdict()
    scales, dist = kki_material(values)
    coupling = kki_coupling(scales, dist, *kki_chi(values)[branch])
    return coupling(constants.k_B * np.asarray(T, float)) / (values["rho"] * values["v_" + branch] ** 2)


def test_tls_heat_capacity():
    model = KKIHeatCapacityModel()
    T = np.array([0.1, 0.3, 0.9])
    c = model.eval(reference_params(model), T=T)
    phonons = debye_heat_capacity(T, REFERENCE_A_SIO2["v_l"], REFERENCE_A_SIO2["v_t"])
    tls = c - constants.volumetric_to_specific(phonons, REFERENCE_A_SIO2["rho"])
    assert within_factor(tls[0] / T[0], C_TLS_OVER_T)
    assert tls / T == pytest.approx([0.99517e-6, 1.32429e-6, 1.86493e-6], rel=1e-3)
    # the TLS dominate: phonons add ≈ 1 % at 0.1 K
    assert c[0] / tls[0] - 1.0 < 0.02


@pytest.mark.parametrize("branch", ["l", "t"])
def test_tunnelling_strength(branch):
    c = tunnelling_strength(branch, T_RANGE)
    assert within_factor(c, C_TUNNEL)
    assert np.exp(np.mean(np.log(c))) == pytest.approx(C_TUNNEL, rel=0.15)     # geometric mean over the decade
    expected = {"l": [2.6519e-4, 3.2428e-4, 4.0546e-4], "t": [2.3587e-4, 2.8842e-4, 3.6063e-4]}[branch]
    assert c == pytest.approx(expected, rel=1e-3)


def test_conductivity_against_stm_and_measured_magnitude():
    model = KKIConductivityModel(plateau="none")
    kappa_over_T2 = model.eval(reference_params(model), T=T_RANGE) / T_RANGE**2
    stm = stm_conductivity(1.0, C_TUNNEL, C_TUNNEL, REFERENCE_A_SIO2["v_l"], REFERENCE_A_SIO2["v_t"])
    assert stm == pytest.approx(0.02953, rel=1e-3)                              # physics.md §6 example
    assert within_factor(kappa_over_T2, stm)
    assert kappa_over_T2 == pytest.approx([0.032716, 0.026396, 0.020530], rel=1e-3)
    # κ ∝ T^(1.8–1.9), as measured (Stephens 1973: exponent 1.9 ± 0.1)
    exponent = 2.0 + np.log(kappa_over_T2[-1] / kappa_over_T2[0]) / np.log(T_RANGE[-1] / T_RANGE[0])
    assert 1.75 < exponent < 2.0


@pytest.mark.parametrize("branch", ["l", "t"])
def test_relaxation_plateau(branch):
    model = KKIAttenuationModel(branch)
    T = np.array([0.5, 0.7, 0.9])
    q = model.eval(reference_params(model), f=np.full(T.shape, 1e4), T=T)
    assert np.ptp(q) / np.mean(q) < 0.02                                         # a plateau: flat in T
    assert within_factor(q, Q_PLATEAU)
    assert q == pytest.approx({"l": [3.5242e-4, 3.5511e-4, 3.5371e-4],
                               "t": [3.1345e-4, 3.1584e-4, 3.1459e-4]}[branch], rel=1e-3)


def test_deformation_potentials():
    model = KKIConductivityModel()
    d1, d2 = model.deformation_potentials(reference_params(model), T_RANGE)
    ratio = REFERENCE_A_SIO2["chi_t_ratio"]
    for d in (d1, d2):
        assert within_factor(d / 2.0, GAMMA["l"])              # γ = D/2 (physics.md §0, §5.1)
        assert within_factor(ratio * d / 2.0, GAMMA["t"])
    assert d1 == pytest.approx([2.0618, 1.9809, 1.8862], rel=1e-3)
    assert d2 == pytest.approx([2.1038, 2.0155, 1.9116], rel=1e-3)


# --- fraction of local potentials that are double wells (α < 9β²/32, physics.md §1.2) -------------------

def double_well_fraction_quadrature(eta_c, xi_c, eta_L=REFERENCE_A_SIO2["eta_L"], xi_L=REFERENCE_A_SIO2["xi_L"]):
    """(type 1, type 2) fractions under f = N h(η) g(ξ), p = 2, curve-1 g: ∫dξ g(ξ) ∫ h(η) dη over each type."""
    dist = KKIDistribution(eta_c, xi_c, 1.0)
    k = 9.0 * eta_L / (32.0 * xi_L**2)                         # η0(ξ) = k ξ²
    type2 = 0.5 * erfc(1.0 / eta_c)                            # ∫_{−∞}^0 h
    type1 = 2.0 * quad(lambda xi: dist.g(xi) * 0.5 * (erfc((1.0 - k * xi**2) / eta_c) - erfc(1.0 / eta_c)),
                       0.0, np.inf, epsabs=1e-13, epsrel=1e-11, limit=200)[0]
    return type1, type2


def double_well_fraction_monte_carlo(eta_c, xi_c, n=1_000_000, seed=20240611):
    rng = np.random.default_rng(seed)
    eta = rng.normal(1.0, eta_c / np.sqrt(2.0), n)            # h(η) ∝ exp(−((η − 1)/η_c)²)
    xi = rng.normal(0.0, xi_c / np.sqrt(2.0), n)              # g(ξ) ∝ exp(−(ξ/ξ_c)²)
    kind = classify(eta / REFERENCE_A_SIO2["eta_L"], xi / REFERENCE_A_SIO2["xi_L"])
    return np.mean(kind == TYPE_1), np.mean(kind == TYPE_2)


def test_monte_carlo_samples_the_kki_distribution():
    dist = KKIDistribution(0.8, 1.2, 1.0)
    x = np.linspace(-2.0, 3.0, 11)
    assert dist.h(x) == pytest.approx(np.exp(-((x - 1) / 0.8) ** 2) / (np.sqrt(np.pi) * 0.8), rel=1e-12)
    assert dist.g(x) == pytest.approx(np.exp(-((x / 1.2) ** 2)) / (np.sqrt(np.pi) * 1.2), rel=1e-12)


# (η_c, ξ_c): (type-1, type-2) fractions by quadrature
DOUBLE_WELL_TABLE = {
    (0.8, 1.2): (0.06349, 0.03855),
    (0.3, 0.75): (0.00110, 0.00000),
    (0.5, 0.5): (0.00121, 0.00234),
    (5.0, 5.0): (0.24765, 0.38865),
    (2.0, 2.0): (0.13591, 0.23975),
    (1.5, 2.0): (0.16541, 0.17289),
    (2.0, 3.0): (0.25182, 0.23975),
}


@pytest.mark.parametrize("shape", list(DOUBLE_WELL_TABLE))
def test_double_well_fraction(shape):
    quadrature = double_well_fraction_quadrature(*shape)
    monte_carlo = double_well_fraction_monte_carlo(*shape)
    assert quadrature == pytest.approx(DOUBLE_WELL_TABLE[shape], abs=1e-5)
    assert np.array(monte_carlo) == pytest.approx(quadrature, abs=1e-3)
    assert sum(monte_carlo) == pytest.approx(sum(quadrature), abs=1e-3)


def test_reference_set_is_mostly_single_wells_with_both_tls_types():
    type1, type2 = double_well_fraction_quadrature(REFERENCE_A_SIO2["eta_c"], REFERENCE_A_SIO2["xi_c"])
    assert type1 + type2 == pytest.approx(0.10204, abs=1e-4)
    assert type1 + type2 < 0.15
    # N_DW = 6e26 m^-3: above the TLS concentration ≥ 1e23–1e24 m^-3, below the atomic density (KKI §4)
    n = 10.0 ** REFERENCE_A_SIO2["log10_N"]
    assert 1e24 < (type1 + type2) * n < n < 6.6e28
