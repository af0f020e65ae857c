"""Fixed Gauss–Legendre node sets shared by the density of states, the ensemble and the observables."""

from __future__ import annotations

import functools

import numpy as np


@functools.cache
def _legendre(order):
    return np.polynomial.legendre.leggauss(order)


def gauss_legendre_panels(edges, order: int = 16):
    """Nodes and weights of composite Gauss–Legendre quadrature on consecutive panels [edges[i], edges[i+1]].

    ``edges`` of shape (..., P + 1) gives nodes and weights of shape (..., P · order): one independent
    rule per leading index (e.g. one per energy, each with its own interval), panels in order.
    """
    edges = np.asarray(edges, float)
    gl_x, gl_w = _legendre(order)
    half = 0.5 * np.diff(edges, axis=-1)
    mid = 0.5 * (edges[..., 1:] + edges[..., :-1])
    shape = (*edges.shape[:-1], -1)
    return (mid[..., None] + half[..., None] * gl_x).reshape(shape), (half[..., None] * gl_w).reshape(shape)


def uniform_panels(lo, hi, n_panels: int, order: int = 16):
    """:func:`gauss_legendre_panels` on ``n_panels`` equal panels of [lo, hi].

    ``lo`` and ``hi`` broadcast together; arrays of shape (K,) give nodes and weights of shape
    (K, n_panels · order), scalars give 1-D ones.
    """
    lo, hi = np.asarray(lo, float), np.asarray(hi, float)
    edges = lo[..., None] + (hi - lo)[..., None] * np.linspace(0.0, 1.0, n_panels + 1)
    return gauss_legendre_panels(edges, order)


def unit_interval_nodes(lo: float, n_log_panels: int, order: int = 16):
    """Nodes z on (lo, 1) for integrands with a 1/z scale near 0 and a sqrt(1 − z) end point at 1.

    ln z on (lo, 1/2) and z = 1 − s² on (1/2, 1).  Returns (z, weights of dz, sqrt(1 − z)), the last
    exact (= s) near z = 1 so that callers can multiply or divide by it without cancellation.
    """
    ln_z, w_ln = gauss_legendre_panels(np.linspace(np.log(lo), np.log(0.5), n_log_panels + 1), order)
    s, w_s = gauss_legendre_panels([0.0, np.sqrt(0.5)], order)
    z_low, z_high = np.exp(ln_z), 1.0 - s**2
    return (np.concatenate([z_low, z_high]), np.concatenate([w_ln * z_low, 2.0 * s * w_s]),
            np.concatenate([np.sqrt(1.0 - z_low), s]))
