"""Independent Monte Carlo estimate of the two-level density n_j(u) (test reference).

I_j(u0) = ∫∫_{type j} dα dβ F(α, β) δ(u0 − ũ(α, β)) is estimated as the mass of F on the strip whose
exact splitting (sinc-DVR, :func:`glassfit.spectrum.two_level`) falls in the bin [u0(1 − ε), u0(1 + ε)],
divided by the bin width:

* the outer variable, the barrier a = −α (type 2) or β = sqrt(8a) (type 1, symmetric line α_s = β²/4),
  is importance-sampled as a = a* + s² with s stratified-uniform (q ∝ 1/sqrt(a − a*) follows the
  end point at the threshold a*, where the symmetric splitting equals the top of the bin);
* at each sample the inner integral across the strip (β = ±t, or α = α_s ± t) is done exactly
  (conditional Monte Carlo): the offsets t where the exact splitting crosses the bin edges are found
  by secant steps on the DVR splitting, and F is integrated between them by 2-point Gauss.

Nothing here uses glassfit's tables, barrier frame, Jacobians or iso-energy quadrature.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import brentq

from glassfit.spectrum import symmetric_splitting, two_level

EPS = 0.02


def _coords(kind, outer, t, side):
    if kind == 2:
        return -outer, side * t
    return outer**2 / 4 + side * t, outer


def _u(kind, outer, t, side):
    return two_level(*_coords(kind, outer, t, side)).u


def _slope(kind, outer):
    """dΔ_c/dt of the linearised classical asymmetry (physics.md §1.2): an initial guess only."""
    return outer**1.5 / np.sqrt(2) if kind == 2 else outer**2 / 4


def _offset_for(kind, outer, side, target, j0):
    """t ≥ 0 with u(t) = target (secant in v = t² on u² − J0², which is nearly linear in v)."""
    need = np.clip(target**2 - j0**2, 0.0, None)
    v0 = need / _slope(kind, outer) ** 2 / 0.8**2
    v1 = 1.05 * v0 + 1e-300
    h0 = _u(kind, outer, np.sqrt(v0), side) ** 2 - j0**2 - need
    for _ in range(5):
        h1 = _u(kind, outer, np.sqrt(v1), side) ** 2 - j0**2 - need
        step = np.where(h1 != h0, (v1 - v0) / np.where(h1 != h0, h1 - h0, 1.0), 0.0)
        v0, h0, v1 = v1, h1, np.clip(v1 - h1 * step, 0.0, None)
    return np.where(need > 0, np.sqrt(v1), 0.0)


def mc_density(kind, u0, F, a_max, n_strata=128, seed=0):
    """(estimate, standard error) of I_kind(u0) for F(α, β), barriers up to ``a_max``."""
    rng = np.random.default_rng(seed)
    u_lo, u_hi = u0 * (1 - EPS), u0 * (1 + EPS)
    a_star = brentq(lambda a: np.log(symmetric_splitting(a) / u_hi), 2.0, a_max, xtol=1e-12)
    s_max = np.sqrt(a_max - a_star)
    s = s_max * (np.arange(n_strata) + rng.random(n_strata)) / n_strata
    a = a_star + s**2
    outer = a if kind == 2 else np.sqrt(8 * a)
    inv_q = 2 * s * s_max if kind == 2 else 2 * s * s_max * 4 / outer        # type 1: dβ/da = 4/β
    j0 = symmetric_splitting(a)
    total = np.zeros(n_strata)
    for side in (-1.0, 1.0):                                                  # both sides of the strip
        sides = np.full(n_strata, side)
        t_lo = _offset_for(kind, outer, sides, u_lo, j0)
        t_hi = _offset_for(kind, outer, sides, u_hi, j0)
        mass = 0.0
        for node in (0.5 - 0.5 / np.sqrt(3), 0.5 + 0.5 / np.sqrt(3)):
            alpha, beta = _coords(kind, outer, t_lo + node * (t_hi - t_lo), sides)
            mirror = F(alpha, -beta) if kind == 1 else 0.0                   # type 1: β < 0 (mirror image)
            mass = mass + 0.5 * (F(alpha, beta) + mirror)
        total += mass * (t_hi - t_lo)
    samples = total * inv_q / (u_hi - u_lo)
    return samples.mean(), samples.std(ddof=1) / np.sqrt(n_strata)
