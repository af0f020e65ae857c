"""The dielectric TLS and quasiparticle physics of superconducting resonators (docs/physics.md §11) against analytic
limits and independent calculations: the digamma form, scipy's Cauchy-weighted quadrature, the Mattis–Bardeen
integrals, and the acoustic KKI coupling."""

import numpy as np
import pytest
from scipy import constants as sc
from scipy.integrate import quad
from scipy.optimize import brentq
from scipy.special import digamma, zeta

from glassfit import constants
from glassfit.distributions import KKIDistribution
from glassfit.models import KKIResonatorLossModel, STMResonatorShiftModel
from glassfit.observables import dielectric, scattering
from glassfit.observables.conductivity import kki_coupling
from glassfit.potential import PotentialScales

OMEGA = 2 * np.pi * 5e9
T = np.geomspace(0.02, 2.0, 9)
SCALES = PotentialScales(w=22.6 * sc.k, eta_L=0.0442, xi_L=0.2102)
DIST = KKIDistribution(0.8, 1.2, 10**27.78)


def constant(value):
    return lambda E: np.full(np.shape(E), value)


def test_tls_loss_limits():
    half = sc.hbar * OMEGA / (2 * sc.k * T)
    loss = dielectric.tls_loss(OMEGA, T, 0.0, 2e-6, 1e3, 0.5)
    np.testing.assert_allclose(loss, 2e-6 * np.tanh(half), rtol=1e-15)
    assert dielectric.tls_loss(OMEGA, 1e-3, 0.0, 2e-6, 1e3, 0.5) == pytest.approx(2e-6, rel=1e-15)      # T → 0
    assert dielectric.tls_loss(OMEGA, 50.0, 0.0, 2e-6, 1e3, 0.5) == pytest.approx(
        2e-6 * sc.hbar * OMEGA / (2 * sc.k * 50.0), rel=1e-5)                                             # kT ≫ ħω
    # power saturation: 1/√(1 + n/n_c) at β = ½, (n/n_c)^-β far above n_c
    assert dielectric.tls_loss(OMEGA, 1e-3, 3e3, 2e-6, 1e3, 0.5) == pytest.approx(1e-6, rel=1e-14)
    assert dielectric.tls_loss(OMEGA, 1e-3, 1e9, 2e-6, 1e3, 0.3) == pytest.approx(2e-6 * 1e-6**0.3, rel=1e-6)


def test_tls_frequency_shift_limits():
    # (Fδ⁰/π)[Re ψ(½ + i y) − ln y], y = ħω/(2π kT): → −(Fδ⁰/π)/(24 y²) for y ≫ 1, (Fδ⁰/π)[ψ(½) − ln y] for y ≪ 1
    y_of = lambda temp: sc.hbar * OMEGA / (2 * np.pi * sc.k * temp)                           # noqa: E731
    cold, hot = 1e-3, 1e3
    assert dielectric.tls_frequency_shift(OMEGA, cold, np.pi) == pytest.approx(-1 / (24 * y_of(cold) ** 2), rel=1e-3)
    psi_half = -np.euler_gamma - 2 * np.log(2)
    assert psi_half == pytest.approx(digamma(0.5), rel=1e-15)
    # Re ψ(½ + iy) = ψ(½) − ψ''(½) y²/2 + O(y⁴), ψ''(½) = −14 ζ(3)
    expected = psi_half + 7 * zeta(3) * y_of(hot) ** 2 - np.log(y_of(hot))
    assert dielectric.tls_frequency_shift(OMEGA, hot, np.pi) == pytest.approx(expected, rel=1e-13)
    # the slope (Fδ⁰/π) per ln T at kT ≫ ħω, and the minimum below kT = ħω
    shifts = dielectric.tls_frequency_shift(OMEGA, np.geomspace(0.01, 1.0, 401), 1.0)
    assert np.argmin(shifts) not in (0, 400) and np.min(shifts) < 0


def test_principal_value_shift_is_the_digamma_form_for_a_constant_strength():
    c = 2e-6
    pv = scattering.principal_value_shift(OMEGA, T, constant(c), e_max=100 * sc.k)
    np.testing.assert_allclose(pv, dielectric.tls_frequency_shift(OMEGA, T, np.pi * c), rtol=0, atol=1e-12 * c)
    # the limit enters through e^(−E_max/kT): 20 K changes nothing below 1 K
    lower = scattering.principal_value_shift(OMEGA, T[:7], constant(c), e_max=20 * sc.k)
    np.testing.assert_allclose(lower, pv[:7], rtol=0, atol=1e-12 * c)


@pytest.mark.filterwarnings("ignore::scipy.integrate.IntegrationWarning")
def test_principal_value_shift_against_adaptive_quadrature():
    # an energy-dependent strength C(E) ∝ E^0.3 against scipy's Cauchy-weighted quad of the same principal value:
    # P∫_0^{2ħω} with the weight 1/(E − ħω), then a plain integral to E_max
    def power_law(E):
        return 1e-6 * (np.asarray(E) / (sc.k * 0.5)) ** 0.3

    e_max, e0 = 0.8 * 22.6 * sc.k, sc.hbar * OMEGA
    ours = scattering.principal_value_shift(OMEGA, T[:7], power_law, e_max)
    for temperature, value in zip(T[:7], ours, strict=True):
        kT = sc.k * temperature

        def g(E, kT=kT):
            return power_law(E) * (np.tanh(E / (2 * kT)) - 1) * E / (E + e0)

        near = quad(g, 0, 2 * e0, weight="cauchy", wvar=e0, epsabs=0, epsrel=1e-13, limit=400)[0]
        far = quad(lambda E, g=g: g(E) / (E - e0), 2 * e0, e_max, epsabs=0, epsrel=1e-13, limit=400)[0]
        assert value == pytest.approx(-(near + far), rel=1e-9)


def _bcs_gap(temperature, gap0):
    """Δ(T) [J] from the weak-coupling BCS gap equation, ln(Δ₀/Δ) = 2 ∫_0^∞ f(E)/E dε with E = √(ε² + Δ²)."""
    kT = sc.k * temperature

    def excess(gap):
        integral = quad(lambda e: 1 / (np.exp(np.hypot(e, gap) / kT) + 1) / np.hypot(e, gap), 0, 60 * kT + gap,
                        epsabs=0, epsrel=1e-12, limit=200)[0]
        return np.log(gap0 / gap) - 2 * integral

    return brentq(excess, 0.5 * gap0, gap0, xtol=1e-16 * gap0, rtol=1e-15)


def test_thermal_gap_is_the_bcs_gap_at_low_temperature():
    gap0 = dielectric.BCS_GAP_RATIO * sc.k * 9.2
    for temperature in (0.9, 1.2, 1.8):                                   # kT/Δ₀ = 0.055 … 0.11
        exact = gap0 - _bcs_gap(temperature, gap0)
        assert gap0 - dielectric.thermal_gap(temperature, gap0) == pytest.approx(exact, rel=0.02)


def _mattis_bardeen_integrals(omega, temperature, gap):
    """(σ₁/σ_N, σ₂/σ_N) by quadrature of the Mattis–Bardeen integrals (ħω < 2Δ), the gap held at Δ."""
    hw, kT = sc.hbar * omega, sc.k * temperature

    def fermi(E):
        return 0.5 * (1 - np.tanh(E / (2 * kT)))

    def sigma_1(u):                                         # E = Δ + u² removes the square-root singularity
        E = gap + u * u
        return 2 * (fermi(E) - fermi(E + hw)) * (E * E + gap * gap + hw * E) / (
            np.sqrt(E + gap) * np.sqrt((E + hw) ** 2 - gap**2))

    lo, hi = gap - hw, gap

    def sigma_2(t):                                         # E = lo + (hi − lo)(1 − cos t)/2: both ends
        E = lo + (hi - lo) * (1 - np.cos(t)) / 2
        return (1 - 2 * fermi(E + hw)) * (E * E + gap * gap + hw * E) / (
            np.sqrt(gap * gap - E * E) * np.sqrt((E + hw) ** 2 - gap**2)) * (hi - lo) * np.sin(t) / 2

    s1 = 2 / hw * quad(sigma_1, 0, np.sqrt(60 * kT), epsabs=0, epsrel=1e-11, limit=500)[0]
    s2 = quad(sigma_2, 0, np.pi, epsabs=0, epsrel=1e-12, limit=500)[0] / hw
    return s1, s2


@pytest.mark.filterwarnings("ignore::scipy.integrate.IntegrationWarning")
def test_mattis_bardeen_low_temperature_forms_against_the_integrals():
    # the integrals at the BCS Δ(T) of the gap equation: σ₂ falls with the gap as much as with the quasiparticles
    gap0 = dielectric.BCS_GAP_RATIO * sc.k * 9.2                          # Nb
    s2_cold = _mattis_bardeen_integrals(OMEGA, 0.05, gap0)[1]
    errors = []
    for temperature in (0.6, 0.9, 1.2, 1.8):                              # kT/Δ = 0.037 … 0.11 (T ≤ T_c/5)
        s1, s2 = _mattis_bardeen_integrals(OMEGA, temperature, _bcs_gap(temperature, gap0))
        a1, a2 = dielectric.mattis_bardeen(OMEGA, temperature, gap0)
        errors.append(abs(a1 / s1 - 1))
        assert errors[-1] < 0.025                                          # σ₁: first order in kT/Δ
        assert a2 / s2 == pytest.approx(1, rel=3e-5)                       # σ₂: (ħω/Δ)² corrections
        shift = (a2 - np.pi * gap0 / (sc.hbar * OMEGA)) / (s2 - s2_cold)
        assert shift == pytest.approx(1, rel=0.02)                        # δσ₂, the gap's fall included
        held = _mattis_bardeen_integrals(OMEGA, temperature, gap0)[1]       # with Δ held at Δ₀: 1.4–1.5 × too small
        assert (s2 - s2_cold) / (held - s2_cold) > 1.3
    assert errors == sorted(errors)                                        # and shrinking as kT/Δ → 0


def test_quasiparticle_terms_are_the_conductivity_ratios():
    gap, alpha = dielectric.BCS_GAP_RATIO * sc.k * 9.2, 0.3
    s1, s2 = dielectric.mattis_bardeen(OMEGA, T, gap)
    np.testing.assert_allclose(dielectric.quasiparticle_loss(OMEGA, T, gap, alpha), alpha * s1 / s2, rtol=1e-15)
    s2_zero = np.pi * gap / (sc.hbar * OMEGA)
    # first order in e^(−Δ/kT): the product of the gap's fall and the thermal term is dropped
    np.testing.assert_allclose(dielectric.quasiparticle_shift(OMEGA, T, gap, alpha),
                               alpha / 2 * (s2 - s2_zero) / s2_zero, rtol=5e-4, atol=1e-15)   # ≲ e^(−Δ/kT)


def test_kki_dielectric_is_the_acoustic_coupling_with_the_dipole():
    # C_e(E) = F Σ_j q² X_j(E)/(3 ε₀ ε_r), q = e* a0: the deformation coupling density with χ_j → q, and the loss
    # π C_e tanh the acoustic Q⁻¹ = (π/ρv²) tanh Σ_j χ_j² X_j with ρv² → 3 ε₀ ε_r/F
    charge, a0, eps_r, filling = 0.1 * sc.e, 1e-10, 3.8, 0.4
    strength = dielectric.kki_dielectric_strength(SCALES, DIST, charge, a0, eps_r, filling)
    coupling = kki_coupling(SCALES, DIST, charge * a0, charge * a0)
    E = np.geomspace(0.01, 1.0, 7) * sc.k
    np.testing.assert_allclose(strength(E), filling * coupling(E) / (3 * sc.epsilon_0 * eps_r), rtol=1e-14)
    stiffness = 3 * sc.epsilon_0 * eps_r / filling
    acoustic = scattering.internal_friction(scattering.kki_resonant_inverse_mfp(OMEGA, T, coupling, stiffness, 1.0),
                                            OMEGA, 1.0)
    np.testing.assert_allclose(dielectric.kki_loss(OMEGA, T, strength), acoustic, rtol=1e-14)


def test_the_default_charge_gives_the_stm_loss_of_a_one_debye_dipole():
    # the reference glass with e* = 0.1 e: F δ⁰ within 15 % of π P̄ p²/(3 ε₀ ε_r), P̄ = 1e45 J⁻¹ m⁻³, p = 1 D
    model = KKIResonatorLossModel()
    x = {"f": np.array([5e9]), "T": np.array([0.1]), "n": np.array([1.0])}
    fdelta0 = model.derived_quantities(model.table_values(model.make_params()), x)["Fdelta0_eff"][0]
    debye = 1e-21 / sc.c
    assert fdelta0 == pytest.approx(np.pi * 1e45 * debye**2 / (3 * sc.epsilon_0 * 3.8), rel=0.15)


def test_quasiparticle_rows_switch_the_terms_on():
    model = STMResonatorShiftModel()
    x = {"f": np.full(3, 5e9), "T": np.array([0.5, 1.0, 1.5])}
    off = model.eval(**x, **model.table_values(model.make_params()))
    on = model.eval(**x, **model.table_values(model.make_params(alpha_k=dict(value=0.2), T_c=dict(value=5.0))))
    gap = dielectric.BCS_GAP_RATIO * constants.k_B * 5.0
    np.testing.assert_allclose(on - off, dielectric.quasiparticle_shift(2 * np.pi * x["f"], x["T"], gap, 0.2),
                               rtol=1e-12)
    assert model.validity_warnings({"T_c": 5.0, "alpha_k": 0.2}, x) == [
        "T > 0.2 T_c at 1 of 3 points (T up to 1.5 K, T_c = 5 K): the low-temperature Mattis–Bardeen forms need "
        "kT ≪ Δ"]
    assert model.validity_warnings({"T_c": 5.0, "alpha_k": 0.0}, x) == []
