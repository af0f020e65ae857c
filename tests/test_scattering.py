import numpy as np
import pytest
from scipy.integrate import quad

from glassfit import constants
from glassfit.observables import scattering as sc
from glassfit.observables.conductivity import stm_conductivity, thermal_conductivity

K, HBAR, EV = constants.k_B, constants.hbar, constants.eV
C, V = 3e-4, 3750.0
K_TAU = sc.relaxation_constant(1.0 * EV, 0.65 * EV, 2200.0, 5800.0, 3750.0)


def tau_min(T):
    return np.tanh(0.5) / (K_TAU * (K * T) ** 3)


def test_relaxation_time_of_silica():
    # physics.md §5.3: τ_min(E = kT) = 9.1 ns × (1 K/T)³ for a-SiO2 (γ_l = 1.0 eV, γ_t = 0.65 eV)
    assert tau_min(1.0) == pytest.approx(9.1e-9, rel=0.01)
    assert 1 / sc.relaxation_rate(K * 0.5, K * 0.5, 0.5, K_TAU) == pytest.approx(tau_min(0.5), rel=1e-12)


def test_resonant_limits():
    # physics.md §9 item 16
    T = 0.01
    omega = np.array([2e11, 4e11])                      # ħω ≫ kT: l⁻¹ ∝ ω
    l_inv = sc.resonant_inverse_mfp(omega, T, C, V)
    assert l_inv[1] / l_inv[0] == pytest.approx(2.0, rel=1e-9)
    omega = 2 * np.pi * 1e6                             # ħω ≪ kT: → π C ħ ω²/(2 v k T)
    assert sc.resonant_inverse_mfp(omega, 1.0, C, V) == pytest.approx(np.pi * C * HBAR * omega**2 / (2 * V * K),
                                                                      rel=1e-8)


def test_relaxation_limits():
    # physics.md §9 item 17: plateau Q⁻¹ = πC/2 (1.566/1.5708 at ωτ_min = 7e-6); low T: (π⁴/12) C K_τ (kT)³/ω
    T = 2.0
    omega = 7e-6 / tau_min(T)
    assert sc.relaxation_internal_friction(omega, T, C, K_TAU) / C == pytest.approx(1.566, abs=1e-3)
    T = np.array([0.01, 0.02])
    omega = 2 * np.pi * 1e9
    low = (np.pi**4 / 12) * C * K_TAU * (K * T) ** 3 / omega
    np.testing.assert_allclose(sc.relaxation_internal_friction(omega, T, C, K_TAU), low, rtol=1e-6)
    np.testing.assert_allclose(sc.relaxation_inverse_mfp(omega, T, C, V, K_TAU), low * omega / V, rtol=1e-6)


def test_velocity_slopes():
    # physics.md §9 item 18: +C per ln T (resonant, kT ≫ ħω), −(3/2) C (relaxation, ωτ_min ≪ 1), net −C/2
    omega = 2 * np.pi * 1e3
    T = np.array([1.5, 2.0])
    d_lnT = np.log(T[1] / T[0])
    res = np.diff(sc.resonant_velocity_shift(omega, T, C))[0] / d_lnT
    rel = np.diff(sc.relaxation_velocity_shift(omega, T, C, K_TAU))[0] / d_lnT
    assert res / C == pytest.approx(1.0, abs=1e-6)
    assert rel / C == pytest.approx(-1.5, abs=0.01)
    assert (res + rel) / C == pytest.approx(-0.5, abs=0.01)


def test_digamma_velocity_against_principal_value():
    # δv/v(T2) − δv/v(T1) = −C [P∫ tanh(E/2kT2) E/(E² − (ħω)²) dE − (same at T1)]  (physics.md §5.4)
    omega = 2 * np.pi * 1e9
    e0 = HBAR * omega
    T1, T2 = 0.02, 0.08

    def pv(T):
        def f(E):
            return np.tanh(E / (2 * K * T)) * E / (E + e0)          # quad's Cauchy weight supplies 1/(E − e0)
        head = quad(f, 0, 4 * e0, weight="cauchy", wvar=e0, epsabs=0, epsrel=1e-12, limit=400)[0]
        tail = quad(lambda E: np.tanh(E / (2 * K * T)) * E / (E * E - e0 * e0), 4 * e0, 2000 * K * T2,
                    epsrel=1e-12, limit=400)[0]
        return head + tail + np.log(2000 * K * T2)                     # the same upper limit for both T
    expected = -C * (pv(T2) - pv(T1))
    got = np.diff(sc.resonant_velocity_shift(omega, np.array([T1, T2]), C))[0]
    assert got == pytest.approx(expected, abs=1e-5 * C)


def test_spm_terms():
    omega = np.array([1e11, 2e11])
    W = 4.0 * K
    vib = sc.spm_vibration_inverse_mfp(omega, C, V, W)
    np.testing.assert_allclose(vib, 0.943 * np.pi * C * omega / V * (HBAR * omega / (2 * W)) ** 3, rtol=1e-3)
    # activated relaxation exceeds the TLS plateau above kT = 2^(−4/3) L^(1/3) W, L = ln(1/ωτ0)
    omega, tau0 = 2 * np.pi * 1e4, 1e-13
    L = np.log(1 / (omega * tau0))
    T_cross = 2 ** (-4 / 3) * L ** (1 / 3) * W / K
    assert sc.spm_activated_internal_friction(omega, T_cross, C, W, tau0) == pytest.approx(np.pi * C / 2, rel=1e-12)
    assert sc.rayleigh_inverse_mfp(2.0, 3.0) == pytest.approx(48.0)
    assert sc.internal_friction(2.0, 4.0, 1000.0) == pytest.approx(500.0)


def test_stm_conductivity_identity_and_t_squared():
    # physics.md §9 item 15: the kinetic integral gives the closed form to 1e-6; κ ∝ T² exactly
    T = np.geomspace(0.03, 3.0, 9)
    c_pol = {"l": 2.5e-4, "t": 3.5e-4}
    v_pol = {"l": 5800.0, "t": 3750.0}
    kappa = thermal_conductivity(T, lambda p, w, t: sc.resonant_inverse_mfp(w, t, c_pol[p], v_pol[p]), 5800.0, 3750.0)
    np.testing.assert_allclose(kappa, stm_conductivity(T, 2.5e-4, 3.5e-4, 5800.0, 3750.0), rtol=1e-6)
    np.testing.assert_allclose(kappa / T**2, kappa[0] / T[0] ** 2, rtol=1e-12)
    # physics.md §6 example: a-SiO2, C = 3e-4: κ/T² = 0.030 W m⁻¹ K⁻³; prefactor k³/(6πħ²) = 0.0125544
    assert stm_conductivity(1.0, 3e-4, 3e-4, 5800.0, 3750.0) == pytest.approx(0.0295, abs=5e-4)
    assert K**3 / (6 * np.pi * HBAR**2) == pytest.approx(0.0125544, rel=1e-5)


def test_matthiessen_boundary_limit():
    # boundary scattering alone: l = L for every phonon → κ = (1/3) C_ph v L with the Debye C_ph
    L = 1e-3
    T = np.array([0.1, 0.5])
    kappa = thermal_conductivity(T, lambda p, w, t: np.full(w.shape, 1 / L), 5800.0, 3750.0)
    c_ph = 2 * np.pi**2 * K**4 * T**3 / (15 * HBAR**3)
    np.testing.assert_allclose(kappa, c_ph * L / 3 * (1 / 5800.0**2 + 2 / 3750.0**2), rtol=1e-9)


def test_bad_inputs():
    with pytest.raises(ValueError, match="omega"):
        sc.resonant_inverse_mfp(-1.0, 1.0, C, V)
    with pytest.raises(ValueError, match="T must"):
        sc.resonant_inverse_mfp(1.0, 0.0, C, V)
    with pytest.raises(ValueError, match="v_t"):
        thermal_conductivity([1.0], lambda p, w, t: np.ones(w.shape), 5800.0, -1.0)
    with pytest.raises(ValueError, match="branch"):
        thermal_conductivity([1.0], lambda p, w, t: np.zeros(w.shape), 5800.0, 3750.0)


def test_kki_resonant_reduces_to_the_stm_form():
    # Σ_j χ_j² X_j(E) = P̄ γ² (constant) is the STM: l⁻¹ = (π ω/(ρ v³)) tanh · P̄γ² = (π ω C/v) tanh
    P, gamma, rho = 1e45, 1.0 * EV, 2200.0
    omega, T = np.geomspace(1e8, 1e12, 5), 0.3
    kki = sc.kki_resonant_inverse_mfp(omega, T, lambda E: np.full(np.shape(E), P * gamma**2), rho, V)
    np.testing.assert_allclose(kki, sc.resonant_inverse_mfp(omega, T, P * gamma**2 / (rho * V**2), V), rtol=1e-13)


def test_exact_eigenvector_rate_reduces_to_the_stm_rate():
    # χ_α² |x_ge|² = γ_α² (Δ0/E)² turns the exact-eigenvector rate into K_τ Δ0² E coth(E/2kT)
    E, delta0, T = 2e-23, 1e-23, 0.5
    g_l, g_t, rho, v_l, v_t = 1.0 * EV, 0.65 * EV, 2200.0, 5800.0, 3750.0
    ratio2 = (delta0 / E) ** 2
    exact = sc.kki_relaxation_rate(E, ratio2, T, g_l, g_t, rho, v_l, v_t)
    stm = sc.relaxation_rate(E, delta0, T, sc.relaxation_constant(g_l, g_t, rho, v_l, v_t))
    assert exact == pytest.approx(stm, rel=1e-13)


def test_kki_conductivity_against_direct_quadrature(conductivity_benchmark):
    # the model's fixed-panel kinetic integral of the interpolated coupling vs adaptive quad of fresh nodes
    # (the reference of benchmarks/conductivity.py)
    from glassfit.models import KKIConductivityModel

    reference_kappa = conductivity_benchmark.reference_kappa

    model = KKIConductivityModel(plateau="rayleigh")
    params = model.make_params(chi_1=dict(value=3.0), chi_2=dict(value=2.0), log10_A_R=dict(value=-41.0),
                               rho=dict(value=1200.0), v_l=dict(value=3000.0), v_t=dict(value=1500.0))
    T = np.array([0.1, 0.4])
    ref = [reference_kappa(t, params.valuesdict()) for t in T]
    np.testing.assert_allclose(model.eval(params, T=T), ref, rtol=1e-4)


def test_kki_resonant_velocity_with_constant_coupling_is_the_digamma_form():
    # S(E) = P̄γ² constant: the KKI principal-value integral must reproduce C ΔRe ψ between temperatures
    P, gamma, rho = 1e45, 1.0 * EV, 2200.0
    c = P * gamma**2 / (rho * V**2)
    omega = 2 * np.pi * np.array([1e6, 1e9])
    T = np.array([0.02, 0.08])
    for w in omega:
        kki = sc.kki_resonant_velocity_shift(w, T, lambda E: np.full(np.shape(E), P * gamma**2), rho, V,
                                             e_max=3000 * K * T[-1])
        dig = sc.resonant_velocity_shift(w, T, c)
        assert np.diff(kki)[0] == pytest.approx(np.diff(dig)[0], abs=1e-6 * c)


def kki_material():
    from glassfit.distributions import KKIDistribution
    from glassfit.potential import PotentialScales

    chi = {"l": (3 * EV, 2 * EV), "t": (1.8 * EV, 1.2 * EV)}
    return PotentialScales(22.6 * K, 0.0442, 0.2102, 1.0), KKIDistribution(0.8, 1.2, 1e27), chi


def test_kki_relaxation_against_direct_quadrature():
    # adaptive quad over E with a fresh iso-energy quadrature at each energy (no grid, no spline)
    from glassfit.density import IsoEnergyQuadrature

    scales, dist, chi = kki_material()
    rho, v_l, v_t = 1200.0, 3000.0, 1500.0
    for f, T in ((1e6, 0.1), (1e9, 0.05)):
        omega = 2 * np.pi * f

        def integrand(x, T=T, omega=omega):
            u = x * K * T
            q = IsoEnergyQuadrature([u / scales.w])
            total = 0.0
            for j, nodes in enumerate((q.type1, q.type2)):
                dens = nodes.weight * dist(scales.eta_L * nodes.alpha, scales.xi_L * nodes.beta) \
                    * scales.eta_L * scales.xi_L / scales.w
                rate = sc.kki_relaxation_rate(u, nodes.x_ge2, T, chi["l"][j], chi["t"][j], rho, v_l, v_t)
                total += np.sum(dens * chi["l"][j] ** 2 * nodes.dx2 / 4 * omega * rate / (rate**2 + omega**2))
            return total / np.cosh(x / 2) ** 2

        ref = quad(integrand, 1e-4, 40, epsrel=1e-6, limit=200)[0] / (rho * v_l**2)
        got = sc.kki_relaxation(omega, T, scales, dist, chi, rho, v_l, v_t)[0]
        assert got == pytest.approx(ref, rel=2e-3)


def test_kki_relaxation_low_temperature_t_cubed():
    # ωτ ≫ 1 for every thermal TLS: Q⁻¹ ∝ Σ τ⁻¹ ∝ (kT)³, as the STM's (π⁴/12) C K_τ (kT)³/ω
    scales, dist, chi = kki_material()
    T = np.array([0.01, 0.02])
    q = sc.kki_relaxation(2 * np.pi * 1e10, T, scales, dist, chi, 1200.0, 3000.0, 1500.0)[0]
    assert np.log(q[1] / q[0]) / np.log(2.0) == pytest.approx(3.0, abs=0.15)


def test_resonant_velocity_is_frequency_independent_at_high_temperature():
    # the digamma form must equal the principal-value integral up to one constant for every (ω, T)
    P, gamma, rho = 1e45, 1.0 * EV, 2200.0
    c = P * gamma**2 / (rho * V**2)
    omega = 2 * np.pi * np.array([1e6, 1e8, 1e10, 1e6, 1e8, 1e10])
    T = np.array([0.5, 0.5, 0.5, 0.05, 0.05, 0.05])
    pv = sc.kki_resonant_velocity_shift(omega, T, lambda E: np.full(np.shape(E), P * gamma**2), rho, V,
                                        e_max=5000 * K)
    dig = sc.resonant_velocity_shift(omega, T, c)
    np.testing.assert_allclose((dig - pv) / c, (dig - pv)[0] / c, atol=1e-5)
    assert abs(dig[0] - dig[1]) < 1e-4 * c          # kT ≫ ħω: no ln ω term (−ln(ħω/kT) would give 4.6 C)


@pytest.mark.filterwarnings("ignore::scipy.integrate.IntegrationWarning")
def test_kki_resonant_velocity_against_adaptive_quadrature():
    # S(E) ∝ E^0.3, the principal value with tanh itself (its T = 0 part kept) against scipy's Cauchy-weighted quad:
    # P∫_0^{2ħω} with the weight 1/(E − ħω), then a plain integral to E_max; the relative error of the old
    # quad-based routine in the T-dependence was up to 1.3e-3 at low T (its lower cut at 1e-6 min(ħω, kT))
    rho, omega, e_max = 2200.0, 2 * np.pi * 1e9, 0.8 * 22.6 * K

    def coupling(E):
        return 1e45 * EV**2 * (np.asarray(E) / (K * 0.5)) ** 0.3

    T = np.array([0.02, 0.05, 0.2, 0.6])
    ours = sc.kki_resonant_velocity_shift(omega, T, coupling, rho, V, e_max=e_max)
    e0 = HBAR * omega
    for temperature, value in zip(T, ours, strict=True):
        def g(E, kT=K * temperature):
            return coupling(E) * np.tanh(E / (2 * kT)) * E / (E + e0)

        near = quad(g, 0, 2 * e0, weight="cauchy", wvar=e0, epsabs=0, epsrel=1e-13, limit=400)[0]
        far = quad(lambda E, g=g: g(E) / (E - e0), 2 * e0, e_max, epsabs=0, epsrel=1e-13, limit=400)[0]
        assert value == pytest.approx(-(near + far) / (rho * V**2), rel=1e-9)
