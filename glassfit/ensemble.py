"""Quadrature over every local potential of the (η, ξ) plane, with each potential's exact lowest levels.

Observables that need more than the lowest doublet — the multilevel heat
capacity of physics.md §4.1 ("Beyond two levels"), where tunnelling states,
soft vibrations and shallow wells are one sum — integrate a function of the
levels against f(η, ξ) over the whole plane:

    ∫∫ dη dξ f(η, ξ) F(E_0 … E_5)  =  η_L ξ_L Σ_nodes weight · f(η_L α, ξ_L β) · F(levels).

The plane is cut, along curves where nothing is singular, into

* ``doublet_low``: double wells with barrier A_b ≥ 3.2 and splitting u ≤ 0.8 w — the iso-energy
  nodes of :class:`glassfit.density.IsoEnergyQuadrature` on a Gauss–Legendre grid in ln(u/w), which
  resolves the TLS strips however narrow;
* ``doublet_high``: the same wells with u > 0.8 w, in (A_b, δ) from the iso-energy curve u = 0.8 w
  out to u = 25 w;
* ``shallow``: double wells with 0 < A_b < 3.2, in (A_b, b), |b| ≤ 12;
* ``single``: single wells α = s², β = v·s·sqrt(32/9), |v| < 1, α ≤ 60.

Every double-well shape appears three times (origin at the barrier top: type 2; at either minimum:
type 1, physics.md §1.2), each with its own f.  Truncations (u ≤ 25 w, α ≤ 60, |b| ≤ 12, six levels,
A_b ≤ 400) cost < 1e-6 relative for kT ≤ w.  Levels come from :mod:`glassfit.tables`, from the exact
solver where a node lies outside them, and beyond the doublet table (A_b > 40, ħω > 17 w) the pair
alone is kept.  Nodes are independent of the distribution and material and are built once per
cutoff (≈ 1–3 s).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from scipy.interpolate import CubicSpline

from glassfit.density import (
    A_B_TAIL,
    GL_ORDER,
    U_TILDE_MIN,
    IsoEnergyQuadrature,
    beyond_table,
    doublet_on_curve,
    type1_from_barrier_frame,
)
from glassfit.distributions import as_distribution
from glassfit.quadrature import uniform_panels
from glassfit.tables import A_B_TABLE_MAX, A_B_TABLE_MIN, default_tables
from glassfit.validation import finite_array

#: Levels kept per node (the ground state and five above it).
N_LEVELS = 6
#: u/w separating the iso-energy doublet nodes from the (A_b, δ) ones.
U_CUT = 0.8
#: u/w beyond which a doublet contributes nothing for kT ≤ w.
U_TOP = 25.0
#: |b| bound of the shallow double wells (0 < A_b < A_B_TABLE_MIN) in the barrier frame.
SHALLOW_B = 12.0
#: Largest α of the single wells.
SINGLE_ALPHA = 60.0


def _panels(lo, hi, n_panels):
    """Gauss–Legendre nodes and weights of the iso-energy quadrature's order on [lo, hi] (scalars or arrays)."""
    return uniform_panels(lo, hi, n_panels, GL_ORDER)


@dataclass(frozen=True)
class PlaneNodes:
    """Nodes of one region of the (α, β) plane (scaled units, physics.md §1.1, §4.1).

    ``weight`` per unit (α, β) area, so that ∫∫ dη dξ f F = η_L ξ_L Σ weight f(η_L α, ξ_L β) F; ``levels`` [w]
    relative to the ground state.
    """

    alpha: np.ndarray
    beta: np.ndarray
    weight: np.ndarray
    levels: np.ndarray          # (n_nodes, N_LEVELS); +inf for levels too high to matter


def _pair_levels(u):
    """Levels of a doublet whose other levels lie ≥ 17 w higher (irrelevant for kT ≤ w)."""
    lev = np.full((u.size, N_LEVELS), np.inf)
    lev[:, 0], lev[:, 1] = 0.0, u
    return lev


def _with_representations(a, b, weight_ab, levels):
    """Type 2 (−a, b) and type 1 from the left minimum of (a, b) and its mirror image (β → −β)."""
    alpha1, beta1, det1 = type1_from_barrier_frame(a, b)
    return PlaneNodes(alpha=np.concatenate([-a, alpha1, alpha1]),
                      beta=np.concatenate([b, beta1, -beta1]),
                      weight=np.concatenate([weight_ab, weight_ab * det1, weight_ab * det1]),
                      levels=np.concatenate([levels] * 3))


def _levels(alpha, beta):
    return default_tables().levels(alpha, beta, N_LEVELS)


def _doublet_low(a_top):
    """Iso-energy nodes for u ≤ U_CUT, integrated over ln u."""
    log_u, w_log = _panels(np.log(U_TILDE_MIN), np.log(U_CUT), 4)
    u_grid = np.exp(log_u)
    quad = IsoEnergyQuadrature(u_grid, barrier_max=a_top, n_panels=2)
    parts = []
    for nodes in (quad.type1, quad.type2):
        weight = nodes.weight * (w_log * u_grid)[:, None]                 # dũ = ũ d ln ũ
        alpha, beta = nodes.alpha.ravel(), nodes.beta.ravel()
        levels = np.empty((alpha.size, N_LEVELS))
        tail = nodes.barrier.ravel() > A_B_TABLE_MAX
        levels[~tail] = _levels(alpha[~tail], beta[~tail])
        levels[~tail] -= levels[~tail, :1]
        levels[tail] = _pair_levels(np.broadcast_to(u_grid[:, None], nodes.alpha.shape).ravel()[tail])
        parts.append(PlaneNodes(alpha, beta, weight.ravel(), levels))
    return _concat(parts)


def _doublet_high(a_top):
    """(A_b, δ) nodes from the curve u = U_CUT out to u = U_TOP, both signs of δ."""
    tables = default_tables()
    a, w_a = _panels(A_B_TABLE_MIN, min(a_top, A_B_TABLE_MAX), 2)
    j0 = np.exp(tables.doublet(a, np.zeros_like(a))[1])
    delta_lo = np.where(j0 < U_CUT, doublet_on_curve(tables, a, np.full(a.shape, U_CUT))[0], 0.0)
    r0 = tables.doublet(a, np.zeros_like(a))[0]
    delta_hi = U_TOP / r0
    # panels: the first 2 w of asymmetry finely, then out to U_TOP
    edges = np.stack([delta_lo, delta_lo + 2.0, delta_lo + 8.0, np.maximum(delta_hi, delta_lo + 9.0)], axis=1)
    deltas, weights = [], []
    for k in range(3):
        d, wd = _panels(edges[:, k], edges[:, k + 1], 1)
        deltas.append(d)
        weights.append(wd)
    d = np.concatenate(deltas, axis=1)
    wd = np.concatenate(weights, axis=1)
    A = np.broadcast_to(a[:, None], d.shape).ravel()
    D = d.ravel()
    b = D * np.sqrt(2.0) / A**1.5
    weight_ab = (wd * w_a[:, None]).ravel() * np.sqrt(2.0) / A**1.5        # dα dβ = (√2/A^1.5) dA dδ
    levels = _levels(-A, b)
    levels -= levels[:, :1]
    both = [_with_representations(A, s * b, weight_ab, levels) for s in (1.0, -1.0)]
    parts = list(both)
    if a_top > A_B_TABLE_MAX:                                               # deep wells: the pair alone
        t, wt = _panels(np.log(A_B_TABLE_MAX), np.log(a_top), 1)
        a_tail = np.exp(t)
        r_tail, _ = beyond_table(tables, a_tail)
        dd, wdd = _panels(U_CUT / r_tail, U_TOP / r_tail, 2)
        A = np.broadcast_to(a_tail[:, None], dd.shape).ravel()
        D = dd.ravel()
        b = D * np.sqrt(2.0) / A**1.5
        weight_ab = (wdd * (wt * a_tail)[:, None]).ravel() * np.sqrt(2.0) / A**1.5
        levels = _pair_levels(np.broadcast_to(r_tail[:, None], dd.shape).ravel() * D)
        parts += [_with_representations(A, s * b, weight_ab, levels) for s in (1.0, -1.0)]
    return _concat(parts)


def _shallow():
    """(A_b, b) nodes of the shallow double wells, 0 < A_b < A_B_TABLE_MIN and |b| ≤ SHALLOW_B."""
    a, w_a = _panels(0.0, A_B_TABLE_MIN, 1)
    b, w_b = _panels(-SHALLOW_B, SHALLOW_B, 4)
    A, B = np.meshgrid(a, b, indexing="ij")
    weight_ab = np.outer(w_a, w_b).ravel()
    levels = _levels(-A.ravel(), B.ravel())
    levels -= levels[:, :1]
    return _with_representations(A.ravel(), B.ravel(), weight_ab, levels)


def single_well_coordinates(s, v):
    """(α, β) = (s², v·s·sqrt(32/9)) of a single well, |v| < 1, and |∂(α, β)/∂(s, v)| = 2 sqrt(32/9) s².

    |v| < 1 is the single-well condition α > 9β²/32 (physics.md §1.2); scaled units.
    """
    c = np.sqrt(32.0 / 9.0)
    return s**2, v * s * c, 2.0 * c * s**2


def _single():
    """(s, v) nodes of the single wells, α = s² ≤ SINGLE_ALPHA (:func:`single_well_coordinates`)."""
    s, w_s = _panels(0.0, np.sqrt(SINGLE_ALPHA), 2)
    v, w_v = _panels(-1.0, 1.0, 2)
    S, V = np.meshgrid(s, v, indexing="ij")
    alpha, beta, jac = (q.ravel() for q in single_well_coordinates(S, V))
    weight = np.outer(w_s, w_v).ravel() * jac
    levels = _levels(alpha, beta)
    levels -= levels[:, :1]
    return PlaneNodes(alpha, beta, weight, levels)


@functools.lru_cache(maxsize=1)
def _single_gap_rows():
    """E1 − E0 along s on each Gauss–Legendre v-row of the single-well region, as cubic splines in s."""
    v, w_v = _panels(-1.0, 1.0, 2)
    s = np.linspace(0.0, np.sqrt(SINGLE_ALPHA), 156)
    S, V = np.meshgrid(s, v, indexing="ij")
    alpha, beta, _ = single_well_coordinates(S.ravel(), V.ravel())
    levels = _levels(alpha, beta).reshape((*S.shape, N_LEVELS))
    gap = levels[..., 1] - levels[..., 0]
    return v, w_v, [CubicSpline(s, gap[:, k]) for k in range(len(v))]


def vibration_density(u, scales, distribution):
    """g_vib(u) [J⁻¹ m⁻³]: density of first excitations E1 − E0 of single wells at energies u [J] (physics.md §3.3).

    g_vib(u) = ∫∫_single dη dξ f(η, ξ) δ(u − (E1 − E0)), summed over every root of E1 − E0 = u along
    each line of constant v (the gap dips below its pure-quartic 2.739 w near the single-well border,
    to ≈ 2.2 w; below that there is no single-well state).  Tabulated for u ≤ 15 w (α ≤ 60).
    """
    scales = getattr(scales, "scales", scales)
    distribution = as_distribution(distribution)
    u = finite_array("u", u)
    u_tilde = np.atleast_1d(u / scales.w)
    if np.any((u_tilde <= 0) | (u_tilde > 15.0)):
        raise ValueError("the single-well vibration density is tabulated for 0 < u/w ≤ 15")
    v_nodes, w_v, rows = _single_gap_rows()
    out = np.zeros(u_tilde.shape)
    for v, wv, row in zip(v_nodes, w_v, rows, strict=True):
        slope = row.derivative()
        for k, target in enumerate(u_tilde):
            roots = row.solve(target, extrapolate=False)
            if roots.size == 0:
                continue
            alpha, beta, jac = single_well_coordinates(roots, np.full(roots.shape, v))
            f = distribution(scales.eta_L * alpha, scales.xi_L * beta)
            out[k] += wv * np.sum(jac * f / np.abs(slope(roots)))
    return (out * scales.eta_L * scales.xi_L / scales.w).reshape(np.shape(u))


def _concat(parts):
    return PlaneNodes(*(np.concatenate([getattr(p, f) for p in parts]) for f in ("alpha", "beta", "weight",
                                                                                 "levels")))


def plane_nodes(barrier_max: float | None = None) -> dict[str, PlaneNodes]:
    """The :class:`PlaneNodes` of every region (see the module docstring), cached per barrier cutoff A_b,max.

    ``barrier_max``: 3.2 < A_b,max ≤ 400 (default 400, no cutoff); physics.md §3.2, §4.1.
    """
    a_top = A_B_TAIL if barrier_max is None else float(barrier_max)
    if not A_B_TABLE_MIN < a_top <= A_B_TAIL:
        raise ValueError(f"barrier_max must lie in ({A_B_TABLE_MIN:g}, {A_B_TAIL:g}], got {barrier_max!r}")
    return _plane_nodes(a_top)


@functools.lru_cache(maxsize=8)
def _plane_nodes(a_top: float) -> dict[str, PlaneNodes]:
    return {"doublet_low": _doublet_low(a_top), "doublet_high": _doublet_high(a_top),
            "shallow": _shallow(), "single": _single()}


REGIONS = ("doublet_low", "doublet_high", "shallow", "single")

__all__ = ["N_LEVELS", "REGIONS", "PlaneNodes", "plane_nodes", "single_well_coordinates", "vibration_density"]
