"""The KKI soft potential V(x) = Aηx² + Bξx³ + Cx⁴ (KKI eq. 2.1): scales and classical geometry.

Two layers:

* functions of the *scaled* parameters (α, β) of h = −d²/dy² + αy² + βy³ + y⁴
  (physics.md §1.1), in which every energy is in units of w and every length
  in units of ℓ = (ε/C)^(1/6) a0;
* :class:`SoftPotential`, the material (A, B, C, m, a0) in SI, which maps
  (η, ξ) to (α, β) and back to joules and metres.

Tunnelling amplitudes of the symmetric double well as functions of the
barrier parameter A_b (physics.md §1.2–1.3) are here too: the
Landau–Lifshitz form used by the paper (KKI eq. 3.12) and the instanton form
with its first correction.  The exact values come from
:mod:`glassfit.spectrum`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from glassfit import constants
from glassfit.validation import finite_array, positive_scalar

#: Smallest barrier parameter with one level per well, 2^(5/3) (KKI eq. 3.8; physics.md §1.5).
A_B_LEVEL_PER_WELL = 2.0 ** (5.0 / 3.0)
#: The same condition for type 1 written as η0/η_L > 9·2^(−1/3) (physics.md §1.5).
ETA0_LEVEL_PER_WELL = 9.0 * 2.0 ** (-1.0 / 3.0)

SINGLE_WELL, TYPE_1, TYPE_2 = 0, 1, 2


# ---------------------------------------------------------------------------
# Scaled geometry, h(α, β) = −d²/dy² + αy² + βy³ + y⁴ (units of w and ℓ)
# ---------------------------------------------------------------------------

def scaled_potential(y, alpha, beta):
    """αy² + βy³ + y⁴ [units of w] at the scaled coordinate y [units of ℓ] (physics.md §1.1); broadcasts."""
    return y * y * (alpha + y * (beta + y))


def classify(alpha, beta):
    """Kind of each scaled potential: 0 single well, 1 type 1, 2 type 2 (physics.md §1.2).

    Type 2: α < 0 (x = 0 is the barrier top).  Type 1: 0 < α < α0 = 9β²/32
    (x = 0 is one of the minima).  Everything else, the borderline α = 0
    included, has a single minimum.
    """
    alpha, beta = np.broadcast_arrays(np.asarray(alpha, float), np.asarray(beta, float))
    kind = np.full(alpha.shape, SINGLE_WELL, dtype=int)
    kind[alpha < 0] = TYPE_2
    kind[(alpha > 0) & (alpha < 9.0 * beta**2 / 32.0)] = TYPE_1
    return kind


@dataclass(frozen=True)
class BarrierFrame:
    """A double well seen from its barrier top (scaled units).

    Shifting y = y_top + z turns any double well, type 1 or type 2, into
    v_top + (−a z² + b z³ + z⁴): the same spectrum shifted by ``v_top``, the
    same off-diagonal and difference matrix elements.  ``a`` is the barrier
    parameter A_b (physics.md §1.2: |α| for type 2, 4α0/9 for a symmetric
    type 1).  NaN where the potential is a single well.
    """

    a: np.ndarray
    b: np.ndarray
    y_top: np.ndarray
    v_top: np.ndarray


def barrier_frame(alpha, beta) -> BarrierFrame:
    """:class:`BarrierFrame` of each (α, β) (scaled units, physics.md §1.2); NaN fields for single wells."""
    alpha, beta = np.broadcast_arrays(np.asarray(alpha, float), np.asarray(beta, float))
    disc2 = 9.0 * beta**2 - 32.0 * alpha
    type1 = (alpha > 0) & (disc2 > 0)
    # type 1: the barrier top is the stationary point nearer the origin (physics.md §1.2); type 2: the origin
    y_top = np.where(type1, -(3.0 * beta - np.copysign(np.sqrt(np.where(type1, disc2, 0.0)), beta)) / 8.0, 0.0)
    a = -(alpha + y_top * (3.0 * beta + 6.0 * y_top))
    b = beta + 4.0 * y_top
    v_top = scaled_potential(y_top, alpha, beta)
    single = ~(type1 | (alpha < 0))
    if single.any():
        a, b, y_top, v_top = (np.where(single, np.nan, q) for q in (a, b, y_top, v_top))
    return BarrierFrame(a, b, y_top, v_top)


def barrier_parameter(alpha, beta):
    """A_b of each double well (dimensionless; see :class:`BarrierFrame`, physics.md §1.2); NaN for single wells."""
    return barrier_frame(alpha, beta).a


@dataclass(frozen=True)
class Geometry:
    """Classical geometry of a set of soft potentials.

    Positions in the length unit of the caller, energies in its energy unit.
    ``asymmetry`` is V(right minimum) − V(left minimum), the sign convention
    of the exact Δ of :func:`glassfit.spectrum.two_level` (Δ > 0 when the
    excited state sits to the right).  Double-well-only fields are NaN for
    single wells.
    """

    kind: np.ndarray
    x_left: np.ndarray
    x_right: np.ndarray
    x_top: np.ndarray
    barrier: np.ndarray
    separation: np.ndarray
    asymmetry: np.ndarray


def scaled_geometry(alpha, beta) -> Geometry:
    """Stationary points, barrier height, separation δy and asymmetry Δ_c of h(α, β) (physics.md §1.2)."""
    alpha = finite_array("alpha", alpha)
    beta = finite_array("beta", beta)
    alpha, beta = np.broadcast_arrays(alpha, beta)
    kind = classify(alpha, beta)
    double = kind != SINGLE_WELL
    disc = np.sqrt(np.where(double, 9.0 * beta**2 - 32.0 * alpha, 0.0))
    roots = np.stack([np.zeros_like(alpha), (-3.0 * beta - disc) / 8.0, (-3.0 * beta + disc) / 8.0])
    roots.sort(axis=0)
    x_left, x_top, x_right = roots
    # a single well has its only minimum at the origin
    x_left = np.where(double, x_left, 0.0)
    x_right = np.where(double, x_right, 0.0)
    v_left = scaled_potential(x_left, alpha, beta)
    v_right = scaled_potential(x_right, alpha, beta)
    v_top = scaled_potential(x_top, alpha, beta)

    def dw(q):
        return np.where(double, q, np.nan)

    return Geometry(
        kind=kind,
        x_left=x_left,
        x_right=x_right,
        x_top=dw(x_top),
        barrier=dw(v_top - np.maximum(v_left, v_right)),
        separation=dw(x_right - x_left),
        asymmetry=dw(v_right - v_left),
    )


# ---------------------------------------------------------------------------
# Symmetric-well tunnelling amplitudes as functions of A_b (units of w)
# ---------------------------------------------------------------------------

def oscillator_quantum(A_b):
    """ħω/w = 2·sqrt(2 A_b), the small-oscillation quantum of each well (physics.md §1.2)."""
    return 2.0 * np.sqrt(2.0 * np.asarray(A_b, float))


def instanton_action(A_b):
    """S0 = (√2/3) A_b^(3/2), the action under the barrier in units of ħ (physics.md §1.3)."""
    return np.sqrt(2.0) / 3.0 * np.asarray(A_b, float) ** 1.5


def instanton_amplitude(A_b, first_correction: bool = True):
    """J_inst/w = 2 (ħω/w) sqrt(6 S0/π) e^(−S0) (1 − 71/(72 S0)) (physics.md §1.3).

    The ground-doublet splitting of the symmetric well from the instanton
    expansion (Zinn-Justin), with its first correction unless
    ``first_correction`` is False; with it, 0.2–2 % above the exact value for
    A_b = 6–12 and better beyond.
    """
    s0 = instanton_action(A_b)
    leading = 2.0 * oscillator_quantum(A_b) * np.sqrt(6.0 * s0 / np.pi) * np.exp(-s0)
    return leading * (1.0 - 71.0 / (72.0 * s0)) if first_correction else leading


_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(64)


def landau_lifshitz_action(A_b):
    """S_LL = ∫|p| dy/ħ between the inner turning points at the zero-point level E^(0) = ħω/2.

    For the symmetric well (y² − A_b/2)², exactly (64-point Gauss–Legendre
    after the substitution y = y_t (1 − s²), which removes the square-root end
    point).  For A_b ≤ 2^(5/3) the level E^(0) lies above the barrier top
    (KKI eq. 3.8 fails), there is no forbidden region and S_LL = 0.
    physics.md §1.3: S_LL = S0 − ½ ln(24 e S0) + o(1).
    """
    A_b = finite_array("A_b", A_b)
    if np.any(A_b <= 0):
        raise ValueError("the barrier parameter A_b must be > 0")
    e0 = 0.5 * oscillator_quantum(A_b)
    y_t = np.sqrt(np.clip(A_b / 2.0 - np.sqrt(e0), 0.0, None))  # inner turning point
    s = 0.5 * (_GL_NODES + 1.0)                       # s in (0, 1)
    y = y_t[..., None] * (1.0 - s**2)
    dy_ds = 2.0 * s * y_t[..., None]
    integrand = np.sqrt(np.clip((y**2 - A_b[..., None] / 2.0) ** 2 - e0[..., None], 0.0, None)) * dy_ds
    # ∫_{-y_t}^{y_t} = 2 ∫_0^{y_t};  ds = ½ dξ for ξ ∈ (−1, 1)
    return 2.0 * 0.5 * np.sum(_GL_WEIGHTS * integrand, axis=-1)


def landau_lifshitz_amplitude(A_b):
    """J_LL/w = (ħω/π) exp(−S_LL), the paper's tunnelling amplitude (KKI eq. 3.12; physics.md §1.3).

    J_LL/J_inst → sqrt(e/π) = 0.9302 as A_b → ∞; against the exact splitting
    it is 1.61, 1.27, 1.07, 1.03 × too large at A_b = 3, 5, 8, 10.
    """
    return oscillator_quantum(A_b) / np.pi * np.exp(-landau_lifshitz_action(A_b))


# ---------------------------------------------------------------------------
# The material: (A, B, C, m, a0) in SI
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class PotentialScales:
    """The three scales every spectral quantity depends on (physics.md §1.1).

    ``w`` [J], ``eta_L`` and ``xi_L`` (dimensionless), and ``length`` = ℓ, the unit of the scaled
    coordinate y in units of a0 (NaN when unknown; only matrix elements in units of a0 need it).
    """

    w: float
    eta_L: float
    xi_L: float
    length: float = float("nan")

    def __post_init__(self):
        for name in ("w", "eta_L", "xi_L"):
            object.__setattr__(self, name, positive_scalar(name, getattr(self, name)))


@dataclass(frozen=True)
class SoftPotential:
    """A soft-potential material, V(x) = Aηx² + Bξx³ + Cx⁴ with H = −ε d²/dx² + V (KKI eqs. 2.1, 3.1).

    Parameters
    ----------
    A, B, C : float
        Energies of the quadratic, cubic and quartic terms [J], > 0.
    mass : float
        Effective mass of the soft mode [kg].
    a0 : float
        Length unit of the dimensionless displacement x [m] (≈ 1 Å).

    Examples
    --------
    >>> from glassfit.potential import SoftPotential
    >>> p = SoftPotential.from_units(A=1.0, B=1.0, C=1.0, mass=24.25, a0=1.0)  # eV, amu, Å
    >>> round(float(p.epsilon / 1.380649e-23), 6)  # ε in K
    1.0
    """

    A: float
    B: float
    C: float
    mass: float
    a0: float

    def __post_init__(self):
        for name in ("A", "B", "C", "mass", "a0"):
            object.__setattr__(self, name, positive_scalar(name, getattr(self, name)))

    @classmethod
    def from_units(cls, A, B, C, mass, a0=1.0) -> SoftPotential:
        """Build from A, B, C in eV, the mass in amu and a0 in Å."""
        return cls(
            A=float(constants.ev_to_joule(A)),
            B=float(constants.ev_to_joule(B)),
            C=float(constants.ev_to_joule(C)),
            mass=float(constants.amu_to_kg(mass)),
            a0=float(constants.angstrom_to_metre(a0)),
        )

    @property
    def epsilon(self) -> float:
        """ε = ħ²/(2 m a0²) [J] (physics.md §1.1)."""
        return float(constants.kinetic_scale(self.mass, self.a0))

    @property
    def w(self) -> float:
        """w = C^(1/3) ε^(2/3) [J], the energy unit of every spectral quantity (KKI eq. 3.6)."""
        return self.C ** (1.0 / 3.0) * self.epsilon ** (2.0 / 3.0)

    @property
    def length(self) -> float:
        """ℓ = (ε/C)^(1/6), the length unit of y in units of a0 (x = ℓ y; physics.md §1.1)."""
        return (self.epsilon / self.C) ** (1.0 / 6.0)

    @property
    def eta_L(self) -> float:
        """η_L = ε^(1/3) C^(2/3) / A, the scale of η (KKI eq. 3.7; physics.md §1.1)."""
        return self.epsilon ** (1.0 / 3.0) * self.C ** (2.0 / 3.0) / self.A

    @property
    def xi_L(self) -> float:
        """ξ_L = ε^(1/6) C^(5/6) / B, the scale of ξ (physics.md §1.1)."""
        return self.epsilon ** (1.0 / 6.0) * self.C ** (5.0 / 6.0) / self.B

    @property
    def scales(self) -> PotentialScales:
        """(w, η_L, ξ_L, ℓ) of this material."""
        return PotentialScales(self.w, self.eta_L, self.xi_L, self.length)

    def scaled(self, eta, xi):
        """(α, β) = (η/η_L, ξ/ξ_L) of each (η, ξ), all dimensionless (physics.md §1.1)."""
        eta = finite_array("eta", eta)
        xi = finite_array("xi", xi)
        return eta / self.eta_L, xi / self.xi_L

    def energy(self, x, eta, xi):
        """V(x) = Aηx² + Bξx³ + Cx⁴ [J] for x in units of a0 (KKI eq. 2.1)."""
        x = np.asarray(x, float)
        return x * x * (self.A * np.asarray(eta, float) + x * (self.B * np.asarray(xi, float) + self.C * x))

    def geometry(self, eta, xi) -> Geometry:
        """Classical geometry (physics.md §1.2) with positions in units of a0 and energies in J."""
        g = scaled_geometry(*self.scaled(eta, xi))
        ell, w = self.length, self.w
        return Geometry(
            kind=g.kind,
            x_left=g.x_left * ell,
            x_right=g.x_right * ell,
            x_top=g.x_top * ell,
            barrier=g.barrier * w,
            separation=g.separation * ell,
            asymmetry=g.asymmetry * w,
        )

    def barrier_parameter(self, eta, xi):
        """A_b of each (η, ξ) (dimensionless, physics.md §1.2; NaN for single wells)."""
        return barrier_parameter(*self.scaled(eta, xi))
