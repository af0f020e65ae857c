"""Distributions f(η, ξ) of the random soft-potential parameters, per unit volume (physics.md §3).

A distribution is any callable ``f(eta, xi)`` returning the density of local
potentials per unit volume per unit η per unit ξ [m⁻³], vectorised over
numpy arrays.  Integrals over (η, ξ) run over ξ ∈ ℝ and count every local
potential once (physics.md §0, STM density convention).

* :class:`KKIDistribution` — the paper's f = N h(η) g(ξ) (KKI eq. 4.12).
* :class:`SeagullDistribution` — the soft-potential model's P_s|η| (physics.md §3.3).
* any user callable with the same signature.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy.special import erfc, gamma

from glassfit.batching import expand
from glassfit.quadrature import gauss_legendre_panels
from glassfit.validation import inputs_trusted, positive_scalar

G_SHAPES = ("curve1", "curve2")


@dataclass(frozen=True)
class KKIDistribution:
    """f(η, ξ) = N h(η) g(ξ), the KKI distribution (KKI eq. 4.12; physics.md §3.1) [m⁻³].

    Parameters
    ----------
    eta_c : float
        Decay scale of h(η) about its mean η̄ = 1.
    xi_c : float
        Width of g(ξ).
    N : float
        Concentration of local potentials ("subsystems") [m⁻³].
    p : {2, 1}
        Exponent of h(η) = exp(−|(η − 1)/η_c|^p) / (2 Γ(1 + 1/p) η_c); the OCR leaves it unreadable [U],
        2 (Gaussian) by default.
    g_shape : {"curve1", "curve2"}
        KKI Fig. 2b.  "curve1": g = exp(−s²)/(√π ξ_c), s = ξ/ξ_c, peaked at ξ = 0.
        "curve2": g = (1 + 2s²) exp(−s²)/(2√π ξ_c), with g(0) = 0.82 of its maximum at |s| = 1/√2
        (a model choice [U]: the paper only says g(0) lies below the maximum).

    Both h and g are normalised to 1, so N is the total concentration.  With η_c, ξ_c, N arrays of shape (P,)
    (a batch of P distributions, :mod:`glassfit.batching`; trusted inputs only) use :meth:`on_nodes`.
    """

    #: f(η, −ξ) = f(η, ξ): g is even (a potential and its mirror image x → −x are equally likely); a subclass with
    #: an asymmetric g sets it False, and the density then evaluates f at every node
    even_in_xi = True

    eta_c: float
    xi_c: float
    N: float
    p: float = 2
    g_shape: str = "curve1"

    def __post_init__(self):
        for name in ("eta_c", "xi_c", "N"):
            object.__setattr__(self, name, positive_scalar(name, getattr(self, name)))
        if self.p not in (1, 2):
            raise ValueError(f"p must be 1 or 2 (KKI eq. 4.12), got {self.p!r}")
        if self.g_shape not in G_SHAPES:
            raise ValueError(f"g_shape must be one of {G_SHAPES}, got {self.g_shape!r}")

    def h(self, eta):
        """h(η), normalised over η ∈ ℝ (dimensionless; KKI eq. 4.12)."""
        z = np.abs((np.asarray(eta, float) - 1.0) / self.eta_c)
        return np.exp(-(z**self.p)) / (2.0 * gamma(1.0 + 1.0 / self.p) * self.eta_c)

    def g(self, xi):
        """g(ξ), even, normalised over ξ ∈ ℝ (dimensionless; KKI Fig. 2b, physics.md §3.1)."""
        s2 = (np.asarray(xi, float) / self.xi_c) ** 2
        if self.g_shape == "curve1":
            return np.exp(-s2) / (np.sqrt(np.pi) * self.xi_c)
        return (1.0 + 2.0 * s2) * np.exp(-s2) / (2.0 * np.sqrt(np.pi) * self.xi_c)

    def h_cdf(self, eta):
        """H(η) = ∫_{−∞}^η h(η') dη', the cumulative distribution of h."""
        z = (np.asarray(eta, float) - 1.0) / self.eta_c
        if self.p == 2:
            return 0.5 * erfc(-z)
        tail = 0.5 * np.exp(-np.abs(z))
        return np.where(z < 0, tail, 1.0 - tail)

    def double_well_fraction(self, eta_L: float, xi_L: float) -> float:
        """Fraction of the local potentials that are double wells (types 1 and 2; physics.md §1.2, §3.1).

        A potential is a double well iff η < η0(ξ) = (9/32) η_L (ξ/ξ_L)² (α < 9β²/32), so

            N_DW/N = ∫ dξ g(ξ) H(η0(ξ))      (KKI eq. 4.13, physics.md §3.1),

        done in s = ξ/ξ_c on Gauss–Legendre panels over [0, 9] (g even; g is < 1e-33 beyond), with extra
        panel edges where η0 = 1 + m η_c (m = 0, ±1, ±2, ±4, ±8), which resolve the step of H at η = 1
        (a kink for p = 1) however narrow h is.  Accurate to ≈ 1e-12 (checked against adaptive quadrature).
        """
        eta_L, xi_L = positive_scalar("eta_L", eta_L), positive_scalar("xi_L", xi_L)
        scale = 9.0 / 32.0 * eta_L * (self.xi_c / xi_L) ** 2                 # η0 = scale · s²
        steps = 1.0 + self.eta_c * np.array([-8.0, -4.0, -2.0, -1.0, 0.0, 1.0, 2.0, 4.0, 8.0])
        edges = np.unique(np.concatenate([[0.0, 1.0, 2.0, 3.0, 4.5, 6.0, 9.0],
                                          np.sqrt(steps[steps > 0] / scale)]))
        s, w = gauss_legendre_panels(edges[edges <= 9.0])
        return float(2.0 * self.xi_c * np.sum(w * self.g(self.xi_c * s) * self.h_cdf(scale * s * s)))

    def __call__(self, eta, xi):
        return self.N * self.h(eta) * self.g(xi)

    def on_nodes(self, eta, xi, ndim: int, weight=None):
        """``weight`` (≥ 0, the nodes' shape; default 1) × f(η, ξ) [m⁻³] at quadrature nodes of ``ndim`` axes, for
        one distribution or a batch of P.

        η, ξ have the nodes' shape S, or (P, *S) (a batch of material scales); the result has shape S, or (P, *S)
        for a batch of distributions or scales.  One exponential per node and set, of ln(weight f) = ln weight +
        ln norm − |η − 1|^p/η_c^p − ξ²/ξ_c² (times 1 + 2ξ²/ξ_c² for "curve2"), formed for every set at once as a
        product of the sets' coefficients and the nodes' terms where the nodes are shared: the same f as
        ``__call__`` to ≈ 1e-14.
        """
        eta, xi = np.asarray(eta, float), np.asarray(xi, float)
        weight = np.ones(eta.shape[-ndim:]) if weight is None else np.asarray(weight, float)
        if any(getattr(type(self), name) is not getattr(KKIDistribution, name) for name in ("h", "g", "__call__")):
            return weight * self(eta, xi)            # a subclass with its own h, g or f: its own formula
        norm = self.N / (2.0 * gamma(1.0 + 1.0 / self.p) * self.eta_c * np.sqrt(np.pi) * self.xi_c)
        coefficients = np.stack(np.broadcast_arrays(np.log(norm), -(self.eta_c ** -float(self.p)),
                                                    -(self.xi_c**-2.0), 1.0), axis=-1)        # (4,) or (P, 4)
        xi2 = xi * xi
        if eta.ndim == ndim and xi.ndim == ndim:         # nodes shared by the batch: one matrix product
            with np.errstate(divide="ignore"):           # weight 0 (an empty panel): ln 0 = −∞, f = 0
                terms = np.stack([np.ones(eta.size), (np.abs(eta - 1.0) ** self.p).ravel(), xi2.ravel(),
                                  np.log(weight).ravel()])
            # einsum, not BLAS: a threaded matrix product would oversubscribe the cores of a process pool
            f = np.einsum("...c,cn->...n", coefficients, terms)
            f = np.exp(f, out=f).reshape(coefficients.shape[:-1] + eta.shape)
        else:
            c = [expand(coefficients[..., i], ndim) for i in range(3)]
            f = weight * np.exp(c[0] + c[1] * np.abs(eta - 1.0) ** self.p + c[2] * xi2)
        if self.g_shape == "curve2":
            f *= 0.5 * (1.0 - 2.0 * xi2 * expand(coefficients[..., 2], ndim))
        return f


SEAGULL_VARIANTS = ("seagull_eta", "flat", "abs_xi")


@dataclass(frozen=True)
class SeagullDistribution:
    """The soft-potential-model density P(η, ξ) on its non-redundant domain (physics.md §3.3) [m⁻³].

    Parameters
    ----------
    P_s : float
        Amplitude [m⁻³]; the density is P_s·|η| ("seagull_eta", the default and the only form
        consistent with the SPM's own results), P_s ("flat"), or P_s·|ξ| ("abs_xi": warns, it gives
        c ∝ T²).

    The SPM counts each potential once, on {η < 0, all ξ} ∪ {η > 0, ξ² < 32η/9}; its potential
    has A = B = C, where that is the single-well condition.  Points with a second minimum away
    from the origin (KKI's type 1) are the same potentials seen from another origin and get 0.
    """

    P_s: float
    variant: str = "seagull_eta"

    #: f(η, −ξ) = f(η, ξ) (every variant)
    even_in_xi = True

    def __post_init__(self):
        object.__setattr__(self, "P_s", positive_scalar("P_s", self.P_s))
        if self.variant not in SEAGULL_VARIANTS:
            raise ValueError(f"variant must be one of {SEAGULL_VARIANTS}, got {self.variant!r}")
        if self.variant == "abs_xi":
            warnings.warn("the P_s|ξ| sea-gull form gives a TLS density ∝ |Δ| and c ∝ T² "
                          "(physics.md §3.3); P_s|η| is the consistent form", UserWarning, stacklevel=3)

    def __call__(self, eta, xi):
        eta, xi = np.broadcast_arrays(np.asarray(eta, float), np.asarray(xi, float))
        redundant = (eta > 0) & (9.0 * xi**2 > 32.0 * eta)
        shape = {"seagull_eta": np.abs(eta), "flat": np.ones_like(eta), "abs_xi": np.abs(xi)}[self.variant]
        return np.where(redundant, 0.0, self.P_s * shape)


def as_distribution(distribution):
    """Check that ``distribution`` is usable as f(η, ξ) and return it (unchecked with trusted inputs,
    :func:`glassfit.validation.trusted_inputs`)."""
    if inputs_trusted():
        return distribution
    if not callable(distribution):
        raise TypeError(f"a distribution must be callable as f(eta, xi), got {type(distribution).__name__}")
    probe = np.asarray(distribution(np.array([-0.5, 0.5]), np.array([0.1, -0.1])), dtype=float)
    if probe.shape != (2,):
        raise ValueError(f"a distribution must return one value per (eta, xi) point, got shape {probe.shape}")
    if np.any(~np.isfinite(probe)) or np.any(probe < 0):
        raise ValueError("a distribution must return finite, non-negative densities")
    return distribution


__all__ = ["G_SHAPES", "SEAGULL_VARIANTS", "KKIDistribution", "SeagullDistribution", "as_distribution"]
