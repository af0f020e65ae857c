import numpy as np
import pytest
from scipy.optimize import brentq

from glassfit import constants
from glassfit.distributions import KKIDistribution, SeagullDistribution
from glassfit.ensemble import REGIONS, plane_nodes, single_well_coordinates, vibration_density
from glassfit.observables.heat import kki_tls_heat_capacity, multilevel_heat_capacity
from glassfit.potential import SoftPotential, classify
from glassfit.spectrum import solve

SPM = SoftPotential.from_units(A=1.0, B=1.0, C=1.0, mass=24.25)      # A = B = C: the SPM's potential
W = SPM.w
P_S = 1e26
P_SPM = P_S * SPM.eta_L**2.5 / W                                   # physics.md §3.3


def test_nodes_are_finite_and_cover_each_type():
    nodes = plane_nodes()
    for name in REGIONS:
        nd = nodes[name]
        assert np.all(np.isfinite(nd.alpha)) and np.all(np.isfinite(nd.beta)) and np.all(nd.weight >= 0)
        assert np.all(nd.levels[:, 0] == 0) and np.all(nd.levels[:, 1:] >= nd.levels[:, :-1])
    kinds = {name: set(np.unique(classify(nodes[name].alpha, nodes[name].beta))) for name in REGIONS}
    assert kinds["single"] == {0}
    assert kinds["doublet_low"] == kinds["doublet_high"] == kinds["shallow"] == {1, 2}


def test_multilevel_reduces_to_the_two_level_heat_capacity():
    dist = KKIDistribution(0.8, 1.2, 1e27)
    T = np.array([0.01, 0.05, 0.2])                                 # kT ≤ 0.01 w
    np.testing.assert_allclose(multilevel_heat_capacity(T, SPM, dist), kki_tls_heat_capacity(T, SPM, dist),
                               rtol=2e-5)


def test_spm_soft_vibrations_give_the_t5_law():
    # physics.md §4.3 / §9 item 23: single-well sum / [172.65 P_SPM k W (kT/W)⁵] = 0.11, 0.93, 1.09, 1.13, 1.07
    kT = np.array([0.2, 0.4, 0.5, 0.7, 1.0]) * W
    c_vib = multilevel_heat_capacity(kT / constants.k_B, SPM, SeagullDistribution(P_S), regions=("single",))
    law = 172.65 * P_SPM * constants.k_B * W * (kT / W) ** 5
    np.testing.assert_allclose(c_vib / law, [0.11, 0.93, 1.09, 1.13, 1.07], atol=0.006)


def test_spm_vibration_density_tends_to_e4():
    # g_vib/[(√2/6) P_SPM (E/W)⁴] → 1 from above; computed here: 1.056, 1.023, 1.012, 1.0067, 1.0042
    # at E/W = 6, 8, 10, 12, 14 (physics.md quotes 1.01–1.02 on 6–14 W; 6 W is 1.056, checked against
    # direct DVR roots in test_vibration_density_against_direct_roots)
    E = np.array([3.0, 4.0, 6.0, 8.0, 10.0, 12.0, 14.0]) * W
    ratio = vibration_density(E, SPM, SeagullDistribution(P_S)) / (np.sqrt(2) / 6 * P_SPM * (E / W) ** 4)
    np.testing.assert_allclose(ratio[2:], [1.0562, 1.0229, 1.0116, 1.0067, 1.0042], atol=1e-3)
    assert np.all(np.diff(ratio) < 0)
    assert 1.2 < ratio[:2].mean() < 1.5                               # ≈ 1.35 on 2–4 W
    assert vibration_density(2.0 * W, SPM, SeagullDistribution(P_S)) == 0.0   # no single-well state < 2.2 w


@pytest.mark.slow
def test_vibration_density_against_direct_roots():
    # independent: roots of the exact DVR gap along each Gauss–Legendre line v = const
    E = 6.0
    x, w = np.polynomial.legendre.leggauss(64)
    total = 0.0
    for v, wv in zip(x, w, strict=True):
        def gap(s, v=v):
            alpha, beta, _ = single_well_coordinates(np.array([s]), np.array([v]))
            e = solve(alpha, beta, 2).energies[0]
            return e[1] - e[0]
        s = np.linspace(0.01, 7.7, 160)
        g = np.array([gap(t) for t in s]) - E
        for i in np.nonzero(np.sign(g[:-1]) != np.sign(g[1:]))[0]:
            r = brentq(lambda t: gap(t) - E, s[i], s[i + 1], xtol=1e-12)
            slope = (gap(r + 1e-5) - gap(r - 1e-5)) / 2e-5
            total += wv * r**2 * single_well_coordinates(r, v)[2] / abs(slope)    # sea-gull weight |η| ∝ α = s²
    assert total / (np.sqrt(2) / 6 * E**4) == pytest.approx(1.0562, abs=5e-4)


def test_spm_heat_capacity_minimum_near_half_w():
    # physics.md §4.3: c/T³ has its minimum at (kT_min/W)⁴ = 0.06925 (λ^(1/3) − λ_min^(1/3)), ≈ 0.54 W
    # for a barrier cutoff λ = 14.9 (A_b = 10); the exact multilevel sum gives 0.55 W
    kT = np.linspace(0.3, 0.8, 21) * W
    c = multilevel_heat_capacity(kT / constants.k_B, SPM, SeagullDistribution(P_S), barrier_max=10.0)
    kt_min = kT[np.argmin(c / kT**3)] / W
    formula = (0.06925 * ((np.sqrt(2) / 3 * 10**1.5) ** (1 / 3) - 2 ** (1 / 3))) ** 0.25
    assert kt_min == pytest.approx(formula, rel=0.06)
    assert 0.45 < kt_min < 0.65


def test_bad_input():
    with pytest.raises(ValueError, match="barrier_max"):
        plane_nodes(2.0)
    with pytest.raises(ValueError, match="u/w"):
        vibration_density(20 * W, SPM, SeagullDistribution(P_S))
    with pytest.raises(ValueError, match="T must be > 0"):
        multilevel_heat_capacity([-1.0], SPM, SeagullDistribution(P_S))
