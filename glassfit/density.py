"""The density of two-level states n_j(u) of KKI types j = 1, 2, and its coupling-weighted forms (physics.md §3.2).

Definition (KKI eq. 4.4):

    n_j(u) = ∫∫_{type j} dη dξ f(η, ξ) δ(u − u_j(η, ξ))
           = (η_L ξ_L / w) ∫∫ dα dβ f(η_L α, ξ_L β) δ(u/w − ũ(α, β))      [J⁻¹ m⁻³]

Every double well is written in its barrier frame −A_b z² + b z³ + z⁴
(:class:`glassfit.potential.BarrierFrame`) with the linearised asymmetry
δ = b A_b^(3/2)/√2, so that ũ = sqrt((r δ)² + J̃²) with r(A_b, δ) and
J̃(A_b, δ) from the exact tables (:mod:`glassfit.tables`).  A type-2 point
(α, β) = (−A_b, b) has the origin at the barrier top; a type-1 point is the
same potential seen from its left minimum, or (mirror image, β → −β) from
its right one.  The δ-integral is done on the curve ũ(A_b, δ) = u/w:

    ∫∫ dα dβ F δ(ũ0 − ũ) = ∫ dA_b Σ_{roots ±δ*} |∂(α, β)/∂(A_b, δ)| F / |∂ũ/∂δ|,

and the A_b-integral from the threshold A*(u) (where J̃(A*, 0) = u/w) runs
in s with A_b = A* + s², which removes the inverse-square-root end point
(physics.md §3.2), by composite Gauss–Legendre quadrature; beyond the table
(A_b > 40, J̃ < 1e-49) ũ = r δ exactly, with r(A_b) and δy_eff continued by
:func:`beyond_table`.

The nodes depend only on u/w and the barrier cutoff, never on the
distribution or the material, so :class:`IsoEnergyQuadrature` computes them
once and a new (η_c, ξ_c, N, w, η_L, ξ_L) costs one evaluation of f at the
nodes.

How n(u) depends on u: for smooth f the integrand in the barrier exponent
σ = S0 is ∝ σ^(−4/3) from σ0 ≈ ln(w/u) up to the cutoff set by h(η) or g(ξ),
so n ∝ σ0^(−1/3) − σ_max^(−1/3) changes only logarithmically with u (KKI's
"logarithmically weak" n(u), eqs. 4.5–4.7; ≈ ln^(−1/3)(w/u) without a
cutoff).  See ``docs/figures/density_of_states.png`` (made by
``docs/figures/density_of_states.py``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from scipy.interpolate import CubicSpline, PchipInterpolator

from glassfit.batching import expand
from glassfit.distributions import as_distribution
from glassfit.potential import PotentialScales
from glassfit.quadrature import uniform_panels
from glassfit.tables import A_B_TABLE_MAX, A_B_TABLE_MIN, default_tables
from glassfit.validation import finite_array, positive_array

#: Largest ũ = u/w tabulated by the doublet quadrature (J̃_sym(3.2) = 0.86: above, shallow wells
#: with no two-level description hold states of the same energy).
U_TILDE_MAX = 0.8
#: Smallest ũ supported.
U_TILDE_MIN = 1e-9
#: The u/w grid on which observables evaluate n_j and the coupling densities and interpolate them.
U_TILDE_GRID = np.geomspace(U_TILDE_MIN, U_TILDE_MAX, 45)
#: Upper end of the A_b integral when no cutoff is given (η = −400 η_L: far beyond any h(η) of interest).
A_B_TAIL = 400.0
#: Gauss–Legendre points per panel of the iso-energy quadrature.
GL_ORDER = 24


@dataclass(frozen=True)
class TypeNodes:
    """Quadrature nodes of one KKI type on the iso-energy curves of a ũ grid, shape (K, M).

    n_j(ũ_k) · w/(η_L ξ_L) = Σ_m weight[k, m] · f(η_L α[k, m], ξ_L β[k, m]).
    ``x_ge2`` = |⟨g|y|e⟩|² and ``dx2`` = (⟨e|y|e⟩ − ⟨g|y|g⟩)² at each node (units of ℓ²);
    ``barrier`` is the barrier parameter A_b of the node's potential.  The second half of the M columns is the
    mirror image ξ → −ξ of the first (same α, weight and matrix elements, β negated).
    """

    alpha: np.ndarray
    beta: np.ndarray
    weight: np.ndarray
    x_ge2: np.ndarray
    dx2: np.ndarray
    barrier: np.ndarray

    def columns(self, distribution) -> slice:
        """The columns :meth:`weighted_f` evaluates for ``distribution``: the first half where f is even in ξ
        (``distribution.even_in_xi``), else all."""
        return slice(0, self.alpha.shape[1] // 2) if getattr(distribution, "even_in_xi", False) else slice(None)

    def weighted_f(self, scales, distribution, factor=None) -> np.ndarray:
        """weight × ``factor`` (an array of the nodes' shape, or None) × f(η_L α, ξ_L β) [m⁻³] at the :meth:`columns`
        of the nodes, whose mirror images then count twice: shape (K, M'), or (P, K, M') for a batch of P material
        scales or distributions (:mod:`glassfit.batching`; ``distribution.on_nodes`` where it has one)."""
        cols = self.columns(distribution)
        weight = self.weight[:, cols] * (2.0 if cols.stop else 1.0)
        if factor is not None:
            weight = weight * factor[:, cols]
        eta = expand(scales.eta_L, 2) * self.alpha[:, cols]
        xi = expand(scales.xi_L, 2) * self.beta[:, cols]
        on_nodes = getattr(distribution, "on_nodes", None)
        return weight * distribution(eta, xi) if on_nodes is None else on_nodes(eta, xi, 2, weight)


def threshold_barrier(tables, u_tilde):
    """A*(ũ): the barrier of the symmetric doublet of splitting ũ = u/w, J̃(A*, δ = 0) = ũ, clipped to the
    table's lower edge (bisection on the doublet table; physics.md §3.2); TLS of energy u have A_b ≥ A*.

    ``tables`` a :class:`glassfit.tables.SpectrumTables`, ``u_tilde`` an array of u/w.
    """
    lo = np.full(u_tilde.shape, A_B_TABLE_MIN)
    hi = np.full(u_tilde.shape, A_B_TABLE_MAX)
    target = np.log(u_tilde)
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        above = tables.doublet(mid, np.zeros_like(mid))[1] > target
        lo = np.where(above, mid, lo)
        hi = np.where(above, hi, mid)
    return np.where(tables.doublet(np.full(1, A_B_TABLE_MIN), np.zeros(1))[1][0] <= target, A_B_TABLE_MIN, hi)


def type1_from_barrier_frame(a, b):
    """(α1, β1) of −a z² + b z³ + z⁴ seen from its left minimum, and |∂(α1, β1)/∂(a, b)| (physics.md §1.2).

    Scaled units (α, β dimensionless): the type-1 representation of the double well whose barrier frame
    is (A_b, b) = (a, b).
    """
    root = np.sqrt(9.0 * b**2 + 32.0 * a)
    z = (-3.0 * b - root) / 8.0
    z_a = -2.0 / root
    z_b = (-3.0 - 9.0 * b / root) / 8.0
    alpha1 = -a + 3.0 * b * z + 6.0 * z**2
    beta1 = b + 4.0 * z
    d_alpha = (3.0 * b + 12.0 * z)
    det = (-1.0 + d_alpha * z_a) * (1.0 + 4.0 * z_b) - (3.0 * z + d_alpha * z_b) * 4.0 * z_a
    return alpha1, beta1, np.abs(det)


def doublet_on_curve(tables, a, u0):
    """The doublet of barrier A_b = ``a`` on the iso-energy curve ũ(a, δ) = ``u0`` (physics.md §3.2).

    Returns (δ*, |∂ũ/∂δ|, |x_ge|², (x_ee − x_gg)²) at the root δ* ≥ 0, in units of w and ℓ; ``a`` (inside the
    doublet table, A_B_TABLE_MIN ≤ a ≤ A_B_TABLE_MAX) and ``u0`` = u/w are arrays of one shape.  δ* = 0 where
    the symmetric splitting already exceeds u0.
    """
    shape = a.shape
    a, u0 = a.ravel(), u0.ravel()
    delta = np.zeros_like(a)
    for _ in range(12):          # fixed point δ = sqrt(ũ² − J̃(a, δ)²)/r(a, δ): J̃, r depend weakly on δ
        r, ln_j, _ = tables.doublet(a, delta)
        delta = np.sqrt(np.clip(u0**2 - np.exp(2 * ln_j), 0.0, None)) / r
    r, ln_j, dy_eff, dr, dln_j = tables.doublet(a, delta, d_delta=True)
    j = np.exp(ln_j)
    asym = r * delta
    u = np.hypot(asym, j)
    du = (asym * (r + delta * dr) + j * j * dln_j) / u
    x_ge2 = (dy_eff * j / (2 * u)) ** 2
    dx2 = (dy_eff * asym / u) ** 2
    return tuple(q.reshape(shape) for q in (delta, np.abs(du), x_ge2, dx2))


def beyond_table(tables, A_b):
    """(r, δy_eff) of the symmetric doublet at A_b ≥ A_B_TABLE_MAX, continued from the table's edge.

    r(A_b) = 1 − (1 − r(40)) (40/A_b)^(3/2), the form r ≈ 1 − 3/(2√2 A_b^(3/2)) of physics.md §1.3 matched
    at the edge, and δy_eff = δy_eff(40) sqrt(A_b/40), the separation sqrt(2 A_b) of the minima (physics.md
    §1.2) matched likewise (units of ℓ).  There J̃ < 1e-49: the doublet is Δ = r δ alone.
    """
    r_edge, _, dy_edge = tables.doublet(np.array([A_B_TABLE_MAX]), np.zeros(1))
    a = np.asarray(A_b, float)
    return 1.0 - (1.0 - r_edge[0]) * (A_B_TABLE_MAX / a) ** 1.5, dy_edge[0] * np.sqrt(a / A_B_TABLE_MAX)


class IsoEnergyQuadrature:
    """Distribution-independent nodes for n_1(ũ), n_2(ũ) on a grid of ũ = u/w (see the module docstring).

    Parameters
    ----------
    u_tilde : array_like
        Energies u/w, U_TILDE_MIN ≤ ũ ≤ U_TILDE_MAX.
    barrier_max : float, optional
        Cutoff A_b,max of the barrier parameter (3.2 < A_b,max); default: no cutoff (A_b up to 400).
    n_panels : int
        24-point Gauss–Legendre panels on the tabulated part; accuracy ≈ 1e-4 at 4 panels for
        smooth f.
    """

    def __init__(self, u_tilde, barrier_max: float | None = None, n_panels: int = 4):
        u0 = finite_array("u/w", u_tilde).ravel()
        if not isinstance(n_panels, int | np.integer) or n_panels < 1:
            raise ValueError(f"n_panels must be a positive integer, got {n_panels!r}")
        if np.any((u0 < U_TILDE_MIN) | (u0 > U_TILDE_MAX)):
            raise ValueError(f"u/w must lie in [{U_TILDE_MIN:g}, {U_TILDE_MAX:g}] for the two-level density")
        top = A_B_TAIL if barrier_max is None else float(barrier_max)
        if not A_B_TABLE_MIN < top <= A_B_TAIL:
            raise ValueError(f"barrier_max must lie in ({A_B_TABLE_MIN}, {A_B_TAIL}], got {barrier_max!r}")
        tables = default_tables()
        self.u_tilde = u0
        self.barrier_max = top

        # below J̃(cutoff) there is no doublet at all: those energies get empty (zero-length) panels
        a_star = np.minimum(threshold_barrier(tables, u0), min(top, A_B_TABLE_MAX))
        s, ws = uniform_panels(np.zeros_like(u0), np.sqrt(min(top, A_B_TABLE_MAX) - a_star), n_panels, GL_ORDER)
        a = a_star[:, None] + s**2
        quad_w = 2.0 * s * ws                                           # da = 2 s ds
        delta, du, x_ge2, dx2 = doublet_on_curve(tables, a, np.broadcast_to(u0[:, None], a.shape))
        if top > A_B_TABLE_MAX:                                          # J̃ = 0 beyond the table
            t, wt = uniform_panels(np.full(u0.shape, np.log(A_B_TABLE_MAX)), np.full(u0.shape, np.log(top)), 2,
                                   GL_ORDER)
            a_tail = np.exp(t)
            r_tail, dy_tail = beyond_table(tables, a_tail)
            a = np.concatenate([a, a_tail], axis=1)
            quad_w = np.concatenate([quad_w, wt * a_tail], axis=1)
            delta = np.concatenate([delta, u0[:, None] / r_tail], axis=1)
            du = np.concatenate([du, r_tail], axis=1)
            x_ge2 = np.concatenate([x_ge2, np.zeros_like(a_tail)], axis=1)
            dx2 = np.concatenate([dx2, np.broadcast_to(dy_tail**2, a_tail.shape)], axis=1)

        b = delta * np.sqrt(2.0) / a**1.5
        db_ddelta = np.sqrt(2.0) / a**1.5
        base = quad_w * db_ddelta / du
        # type 2: origin at the barrier top, the two roots ±δ*
        self.type2 = TypeNodes(alpha=np.concatenate([-a, -a], axis=1), beta=np.concatenate([b, -b], axis=1),
                               weight=np.concatenate([base, base], axis=1),
                               x_ge2=np.tile(x_ge2, 2), dx2=np.tile(dx2, 2), barrier=np.tile(a, 2))
        # type 1: origin at the left minimum of (a, ±b), and the mirror images (origin at the right minimum)
        parts = [type1_from_barrier_frame(a, sb) for sb in (b, -b)]
        alpha1 = np.concatenate([p[0] for p in parts] * 2, axis=1)
        beta1 = np.concatenate([p[1] for p in parts] + [-p[1] for p in parts], axis=1)
        weight1 = np.concatenate([base * p[2] for p in parts] * 2, axis=1)
        self.type1 = TypeNodes(alpha=alpha1, beta=beta1, weight=weight1,
                               x_ge2=np.tile(x_ge2, 4), dx2=np.tile(dx2, 4), barrier=np.tile(a, 4))

    def density(self, scales, distribution):
        """(n_1, n_2) on the ũ grid [J⁻¹ m⁻³] for a material's ``scales`` (w, η_L, ξ_L) and f(η, ξ) [m⁻³].

        KKI eq. 4.4, physics.md §3.2.
        """
        return tuple(self._sum(nodes, scales, distribution, None) for nodes in (self.type1, self.type2))

    def coupling(self, scales, distribution, which: str):
        """Σ over the TLS at each ũ of |x_ge|² ("x_ge2") or (x_ee − x_gg)² ("dx2"), per type.

        [J⁻¹ m⁻³ a0²]: positions in units of a0 (needs ``scales.length``).  Divided by n_j this is
        the average ⟨|x_ge|²⟩ at that energy (physics.md §5.1–5.2).
        """
        if which not in ("x_ge2", "dx2"):
            raise ValueError(f"which must be 'x_ge2' or 'dx2', got {which!r}")
        if not np.isfinite(scales.length):
            raise ValueError("coupling densities need the length unit ℓ of the potential (scales.length)")
        return tuple(self._sum(nodes, scales, distribution, which) * scales.length**2
                     for nodes in (self.type1, self.type2))

    @staticmethod
    def _sum(nodes, scales, distribution, which):
        weighted = nodes.weighted_f(scales, distribution, None if which is None else getattr(nodes, which))
        return np.sum(weighted, axis=-1) * expand(scales.eta_L * scales.xi_L / scales.w, 1)


@dataclass(frozen=True)
class DistinctTLS:
    """The distinct two-level systems of one KKI type on a ũ grid, shape (K, M) each: ``density`` [J⁻¹ m⁻³]
    (summed over the representations of one potential shape), ``x_ge2`` and ``dx2`` (units of ℓ²)."""

    density: np.ndarray
    x_ge2: np.ndarray
    dx2: np.ndarray

    def relaxing(self) -> DistinctTLS:
        """These TLS without the ones that never relax or absorb: |x_ge|² = 0 at every energy (the potentials beyond
        the doublet tables, J̃ < 1e-49), which add exactly nothing to rates, relaxation absorption or c(T, t)."""
        columns = np.flatnonzero(np.any(self.x_ge2 > 0, axis=0))
        return DistinctTLS(self.density[..., columns], self.x_ge2[:, columns], self.dx2[:, columns])


def distinct_tls(quad_nodes: IsoEnergyQuadrature, scales, distribution) -> tuple[DistinctTLS, DistinctTLS]:
    """(type 1, type 2) TLS of ``quad_nodes`` weighted by f, each distinct TLS once.

    Every representation of one shape (2 for type 2, 4 for type 1: the barrier frame and its mirror image
    seen from either minimum) has the same levels and matrix elements, so their densities are summed and
    observables that depend on the levels (relaxation rates, couplings) are evaluated 3× less often.
    """
    distribution = as_distribution(distribution)
    shapes = quad_nodes.type2.alpha.shape[1] // 2
    out = []
    for nodes in (quad_nodes.type1, quad_nodes.type2):
        dens = nodes.weighted_f(scales, distribution)
        dens = dens.reshape(*dens.shape[:-1], -1, shapes).sum(axis=-2)
        dens = dens * expand(scales.eta_L * scales.xi_L / scales.w, 2)
        out.append(DistinctTLS(dens, nodes.x_ge2[:, :shapes], nodes.dx2[:, :shapes]))
    return tuple(out)

@functools.lru_cache(maxsize=32)
def _cached_quadrature(u_key: tuple, barrier_max, n_panels) -> IsoEnergyQuadrature:
    return IsoEnergyQuadrature(np.array(u_key), barrier_max, n_panels)


def quadrature_for(u_tilde, barrier_max=None, n_panels: int = 4) -> IsoEnergyQuadrature:
    """An :class:`IsoEnergyQuadrature` for energies ``u_tilde`` = u/w, cached per (ũ grid, cutoff, panels) within the
    process (the nodes do not depend on the material or f, physics.md §3.2)."""
    u = finite_array("u/w", u_tilde).ravel()
    return _cached_quadrature(tuple(u.tolist()), None if barrier_max is None else float(barrier_max), n_panels)


class EnergyCurves:
    """Curves f(E) [E in J] interpolating ``values`` given on the grid ``u_tilde`` = E/w, in (ln E, ln f).

    ``values`` has shape (*batch, *points, K): K the grid; ``points`` = 0 (one curve) or 1 point axis (one curve per
    data point, shape (n,)), and before them the batch axis of P parameter sets, if any (:mod:`glassfit.batching`).
    ``w`` [J] is a number or one per set (P,).  A cubic spline where every value is positive; where some vanish (e.g.
    below the threshold of a barrier cutoff) a monotone PCHIP, which cannot overshoot across the zeros.  Continued
    flat outside the grid (callers document the validity range).

    ``curves(E)``: E of shape (*points, ...) — point i's curves at E[i] — the same for every set of the batch;
    the result has shape (*batch, *E.shape).  ``curves.at_fraction(r)``: the same at E = r w.
    """

    def __init__(self, u_tilde, values, w, points: int = 0):
        self.log_u = np.log(np.asarray(u_tilde, float))
        values = np.asarray(values, float)
        self.points = values.shape[values.ndim - 1 - points:-1]
        self.batch = values.shape[:values.ndim - 1 - points]
        y = np.moveaxis(values, -1, 0)                                      # (K, *batch, *points)
        y = np.moveaxis(y, 1, -1) if self.batch else y[..., None]          # (K, *points, B): a set's curves last
        positive = np.all(y > 0, axis=tuple(range(y.ndim - 1)))               # per set, over all its curves
        log_y = np.log(np.maximum(y, 1e-300))
        coefficients = CubicSpline(self.log_u, log_y, axis=0).c if positive.any() else 0.0
        if not positive.all():
            coefficients = np.where(positive, coefficients, PchipInterpolator(self.log_u, log_y, axis=0).c)
        # row k·n + i of coefficient j: curve of point i on interval k, one column per set
        self.rows = np.asarray(coefficients).reshape(4, -1, y.shape[-1])
        self.n_points = int(np.prod(self.points))
        self.w = np.asarray(w, float)
        steps = np.diff(self.log_u)
        self.step = steps[0] if np.allclose(steps, steps[0], rtol=1e-12, atol=0.0) else None

    def __call__(self, E):
        """The curves at energies E [J] (shape (*points, ...)): shape (*batch, *E.shape)."""
        E = np.asarray(E, float)
        w = self.w.reshape(self.w.shape + (1,) * E.ndim)                   # a batch of w: one x per set
        return self._at(np.log(E / w), E.shape)

    def at_fraction(self, ratio):
        """The curves at E = ``ratio`` · w (ratio of shape (*points, ...)): shape (*batch, *ratio.shape)."""
        ratio = np.asarray(ratio, float)
        return self._at(np.log(ratio), ratio.shape)

    def _at(self, x, shape):
        x = np.clip(x, self.log_u[0], self.log_u[-1])
        if self.step is None:
            k = np.searchsorted(self.log_u, x, side="right") - 1
        else:
            k = ((x - self.log_u[0]) / self.step).astype(np.intp)
        k = np.clip(k, 0, self.log_u.size - 2)
        dx = x - self.log_u[k]
        point = np.arange(self.n_points).reshape(self.points + (1,) * (len(shape) - len(self.points)))
        row = k * self.n_points + point
        sets = self.rows.shape[-1]
        if x.shape == shape:                 # the same x for every set: gather rows of the sets' coefficients
            row, dx = row.ravel(), dx.reshape(-1, 1)
            y = self.rows[0].take(row, axis=0)
            for c in self.rows[1:]:
                y *= dx
                y += c.take(row, axis=0)
            y = np.exp(y, out=y).reshape((*shape, sets))
            return np.moveaxis(y, -1, 0) if self.batch else y[..., 0]
        index = row * sets + np.arange(sets).reshape((sets,) + (1,) * len(shape))   # x per set: (P, *shape)
        y = self.rows[0].take(index)
        for c in self.rows[1:]:
            y = y * dx + c.take(index)
        return np.exp(y)


def _energies(u, scales):
    u = positive_array("u", u, "energies u (J)")
    return u, u / scales.w


def tls_density(u, scales, distribution, barrier_max=None, n_panels: int = 4):
    """n_1(u), n_2(u) [J⁻¹ m⁻³] of two-level systems of KKI types 1 and 2 at energies ``u`` [J].

    Parameters
    ----------
    u : array_like
        Energies [J], with 1e-9 ≤ u/w ≤ 0.8.
    scales : PotentialScales or SoftPotential
        The material (w [J], η_L, ξ_L).
    distribution : callable
        f(η, ξ) [m⁻³], e.g. :class:`glassfit.distributions.KKIDistribution`.
    barrier_max : float, optional
        Cutoff A_b,max of the barrier parameter (physics.md §3.2); default none.

    Examples
    --------
    >>> from glassfit.potential import SoftPotential
    >>> from glassfit.distributions import KKIDistribution
    >>> pot = SoftPotential.from_units(A=1, B=1, C=1, mass=24.25)
    >>> n1, n2 = tls_density(1e-3 * pot.w, pot, KKIDistribution(0.3, 0.3, 1e27))
    """
    scales = getattr(scales, "scales", scales)
    distribution = as_distribution(distribution)
    u, u_tilde = _energies(u, scales)
    quad = quadrature_for(u_tilde, barrier_max, n_panels)
    return tuple(n.reshape(u.shape) for n in quad.density(scales, distribution))


def coupling_density(u, scales, distribution, which: str = "x_ge2", barrier_max=None, n_panels: int = 4):
    """Σ_TLS |x_ge|² (or (x_ee − x_gg)²) δ(u − u_j) per type [J⁻¹ m⁻³ a0²]; see :meth:`IsoEnergyQuadrature.coupling`."""
    scales = getattr(scales, "scales", scales)
    distribution = as_distribution(distribution)
    u, u_tilde = _energies(u, scales)
    quad = quadrature_for(u_tilde, barrier_max, n_panels)
    return tuple(n.reshape(u.shape) for n in quad.coupling(scales, distribution, which))


def deep_barrier_fraction(u, scales, distribution, barrier=A_B_TABLE_MAX, barrier_max=None):
    """Fraction of the TLS of energy u [J] (both types) whose barrier parameter exceeds ``barrier``.

    (n_1 + n_2 restricted to A_b > ``barrier``)/(n_1 + n_2), from the nodes of the iso-energy quadrature
    (physics.md §3.2); 0 where there are no TLS.  With the default, the share of the TLS beyond the doublet
    tables: J̃ < 1e-49 is set to 0 there, so they count in the equilibrium c but never relax or scatter phonons.
    """
    scales = getattr(scales, "scales", scales)
    distribution = as_distribution(distribution)
    u, u_tilde = _energies(u, scales)
    quad = quadrature_for(u_tilde, barrier_max)
    total = deep = 0.0
    for nodes in (quad.type1, quad.type2):
        dens = nodes.weighted_f(scales, distribution)
        total = total + dens.sum(axis=1)
        deep = deep + np.where(nodes.barrier[:, nodes.columns(distribution)] > barrier, dens, 0.0).sum(axis=1)
    return np.divide(deep, total, out=np.zeros_like(total), where=total > 0).reshape(u.shape)


def mean_separation(u, scales, distribution, barrier_max=None):
    """sqrt⟨δy_eff²⟩ of the TLS of each type at energies u [J], in units of ℓ (physics.md §2.2, §5.1).

    δy_eff² = (x_ee − x_gg)² + 4|x_ge|² is the squared effective separation of the two wells; with a
    coupling χ_j per unit y the deformation potential of type j is D_j = χ_j δy_eff = 2γ_j (KKI eq. 5.6).
    """
    scales = getattr(scales, "scales", scales)
    in_y = PotentialScales(scales.w, scales.eta_L, scales.xi_L, length=1.0)
    n = tls_density(u, in_y, distribution, barrier_max)
    x_ge2 = coupling_density(u, in_y, distribution, "x_ge2", barrier_max)
    dx2 = coupling_density(u, in_y, distribution, "dx2", barrier_max)
    # NaN where a type has no two-level states at that energy
    return tuple(np.sqrt(np.divide(d + 4.0 * x, m, out=np.full(m.shape, np.nan), where=m > 0))
                 for m, x, d in zip(n, x_ge2, dx2, strict=True))


__all__ = [
    "A_B_TABLE_MAX",
    "A_B_TAIL",
    "GL_ORDER",
    "U_TILDE_GRID",
    "U_TILDE_MAX",
    "U_TILDE_MIN",
    "DistinctTLS",
    "EnergyCurves",
    "IsoEnergyQuadrature",
    "TypeNodes",
    "beyond_table",
    "coupling_density",
    "deep_barrier_fraction",
    "distinct_tls",
    "doublet_on_curve",
    "mean_separation",
    "quadrature_for",
    "threshold_barrier",
    "tls_density",
    "type1_from_barrier_frame",
]
