"""Specific heat of glasses (physics.md §4): two-level systems, Debye phonons, per unit volume [J m⁻³ K⁻¹].

    c_TLS(T) = ∫_0^∞ du n(u) k (u/2kT)² sech²(u/2kT)            (KKI eq. 4.1)
    c_D(T)   = (2π² k⁴ T³ / (15 ħ³)) (1/v_l³ + 2/v_t³)           (physics.md §4.2)

For the KKI model n(u) = n_1(u) + n_2(u) comes from :mod:`glassfit.density`
on a fixed grid of u/w and is interpolated in (ln u, ln n); the u-integral
runs in x = u/kT on fixed Gauss–Legendre panels (exact to ≈ 1e-12 for
constant n).  The two-level description holds while the thermal energies
(≈ 20 kT) stay below the top of the doublet tables, 0.8 w: kT ≲ w/25, the
limit the models use (``glassfit.models.TWO_LEVEL_LIMIT``).  For the
reference glass (w = 22.6 K, η_c = 0.8, ξ_c = 1.2) c_TLS differs from the
multilevel sum by 4e-6 at kT = w/40, 7e-6 at w/25 and 1.3e-4 at w/15.  Above
that use :func:`multilevel_heat_capacity`, the sum over every local
potential's lowest levels (tunnelling states, shallow wells and soft
vibrations).
"""

from __future__ import annotations

import numpy as np

from glassfit import constants
from glassfit.batching import expand
from glassfit.density import U_TILDE_GRID, EnergyCurves, quadrature_for
from glassfit.distributions import as_distribution
from glassfit.ensemble import REGIONS, plane_nodes
from glassfit.quadrature import gauss_legendre_panels
from glassfit.validation import finite_array, positive_array, positive_scalar

#: Nodes x = u/kT of the TLS heat-capacity integral, fixed Gauss–Legendre panels on [0, 60] (the weight
#: (x/2)² sech²(x/2) is below 1e-22 beyond); shared by every c(T) and c(T, t) of the package.
X_NODES, _W = gauss_legendre_panels((0.0, 2.0, 6.0, 14.0, 30.0, 60.0))
#: Weights of X_NODES times the kernel (x/2)² sech²(x/2): c = k² T Σ n(x kT) X_WEIGHTS (KKI eq. 4.1).
X_WEIGHTS = _W * (X_NODES / 2.0) ** 2 / np.cosh(X_NODES / 2.0) ** 2


def _temperatures(T):
    return positive_array("T", T, "temperatures T (K)")


def stm_heat_capacity(T, P0, c3=0.0):
    """Standard tunnelling model: c = (π²/6) P̄ k² T + c₃ T³ [J m⁻³ K⁻¹] (physics.md §4.1; KKI eqs. 4.2–4.3).

    ``T`` [K], ``P0`` = P̄ [J⁻¹ m⁻³] in the convention P(Δ, Δ0) = P̄/Δ0 (physics.md §0; the equilibrium TLS
    density of states), ``c3`` [J m⁻³ K⁻⁴].
    """
    T = finite_array("T", T)
    return np.pi**2 / 6.0 * expand(P0, T.ndim) * constants.k_B**2 * T + expand(c3, T.ndim) * T**3


def tls_heat_capacity_from_density(T, density):
    """c_TLS(T) [J m⁻³ K⁻¹] for any density of states ``density(u)`` [J⁻¹ m⁻³], u in J (KKI eq. 4.1).

    Vectorised: ``density`` is called once with an array of shape (len(T), n_nodes); it may return a batch
    (P, len(T), n_nodes) (:class:`~glassfit.density.EnergyCurves` of P parameter sets), and c then has shape
    (P, len(T)).  For a constant n0 this is (π²/6) n0 k² T.
    """
    T = _temperatures(T)
    kT = constants.k_B * T
    n = np.asarray(density(kT[..., None] * X_NODES), dtype=float)
    return constants.k_B**2 * T * np.einsum("...x,x->...", n, X_WEIGHTS)


def kki_tls_density_spline(scales, distribution, barrier_max=None):
    """n_1 + n_2 on :data:`glassfit.density.U_TILDE_GRID`, as :class:`~glassfit.density.EnergyCurves` density(u)
    [J⁻¹ m⁻³] of u [J] (one curve, or one per parameter set of a batch).

    Below the grid n is continued at its first value, above at its last (documented validity kT ≲ w/25).
    """
    distribution = as_distribution(distribution)
    n1, n2 = quadrature_for(U_TILDE_GRID, barrier_max).density(scales, distribution)
    return EnergyCurves(U_TILDE_GRID, n1 + n2, scales.w)


def kki_tls_heat_capacity(T, scales, distribution, barrier_max=None):
    """c_TLS(T) [J m⁻³ K⁻¹] of the KKI soft-potential TLS of both types (physics.md §3.2, §4.1).

    ``T`` [K]; ``scales`` a :class:`~glassfit.potential.PotentialScales` or
    :class:`~glassfit.potential.SoftPotential`; ``distribution`` f(η, ξ) [m⁻³].
    """
    scales = getattr(scales, "scales", scales)
    return tls_heat_capacity_from_density(T, kki_tls_density_spline(scales, distribution, barrier_max))


def debye_coefficient(v_l, v_t):
    """c_D/T³ = (2π² k⁴ / (15 ħ³)) (1/v_l³ + 2/v_t³) [J m⁻³ K⁻⁴] (physics.md §4.2); v in m/s.

    a-SiO2 (5800, 3750 m/s): 1.755 J m⁻³ K⁻⁴.
    """
    v_l = positive_scalar("v_l", v_l)
    v_t = positive_scalar("v_t", v_t)
    return 2.0 * np.pi**2 * constants.k_B**4 / (15.0 * constants.hbar**3) * (1.0 / v_l**3 + 2.0 / v_t**3)


def debye_heat_capacity(T, v_l, v_t):
    """Debye phonon heat capacity c_D(T) [J m⁻³ K⁻¹] for sound velocities v_l, v_t [m/s]."""
    T = _temperatures(T)
    return expand(debye_coefficient(v_l, v_t), T.ndim) * T**3


def multilevel_heat_capacity(T, scales, distribution, barrier_max=None, regions=None):
    """c(T) [J m⁻³ K⁻¹] of every local potential from its six lowest exact levels (physics.md §4.1).

        c = ∫∫ dη dξ f(η, ξ) k [⟨E²⟩ − ⟨E⟩²]/(kT)²

    Tunnelling doublets, shallow wells and soft vibrations are one sum (:mod:`glassfit.ensemble`);
    it reduces to c_TLS at kT ≪ w.  ``regions`` restricts the sum (e.g. ``("single",)`` for the soft
    vibrations alone); valid for kT ≤ w.
    """
    T = _temperatures(T)
    scales = getattr(scales, "scales", scales)
    distribution = as_distribution(distribution)
    nodes = plane_nodes(barrier_max)
    total = np.zeros(T.shape)
    for name in REGIONS if regions is None else regions:
        nd = nodes[name]
        weight = nd.weight * distribution(scales.eta_L * nd.alpha, scales.xi_L * nd.beta)
        keep = weight > 0
        weight, levels = weight[keep], nd.levels[keep]
        for i, t in np.ndenumerate(T):
            y = levels * (scales.w / (constants.k_B * t))
            p = np.exp(-np.where(np.isfinite(y), y, np.inf))
            p /= p.sum(axis=1, keepdims=True)
            y = np.where(p > 0, y, 0.0)
            var = np.sum(p * y * y, axis=1) - np.sum(p * y, axis=1) ** 2
            total[i] += np.sum(weight * var)
    return constants.k_B * scales.eta_L * scales.xi_L * total


__all__ = [
    "X_NODES",
    "X_WEIGHTS",
    "debye_coefficient",
    "debye_heat_capacity",
    "kki_tls_density_spline",
    "kki_tls_heat_capacity",
    "multilevel_heat_capacity",
    "stm_heat_capacity",
    "tls_heat_capacity_from_density",
]
