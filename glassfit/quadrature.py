"""Fixed Gauss–Legendre node sets shared by the observables."""

from __future__ import annotations

import functools

import numpy as np


@functools.cache
def _legendre(order):
    return np.polynomial.legendre.leggauss(order)


def gauss_legendre_panels(edges, order: int = 16):
    """Nodes and weights of composite Gauss–Legendre quadrature on consecutive panels [edges[i], edges[i+1]]."""
    edges = np.asarray(edges, float)
    gl_x, gl_w = _legendre(order)
    half = 0.5 * np.diff(edges)
    mid = 0.5 * (edges[1:] + edges[:-1])
    return (mid[:, None] + half[:, None] * gl_x).ravel(), (half[:, None] * gl_w).ravel()


def unit_interval_nodes(lo: float, n_log_panels: int, order: int = 16):
    """Nodes u on (lo, 1) for integrands with a 1/u scale near 0 and a sqrt(1 − u) end point at 1.

    ln u on (lo, 1/2) and u = 1 − s² on (1/2, 1).  Returns (u, weights of du, sqrt(1 − u)), the last
    exact (= s) near u = 1 so that callers can multiply or divide by it without cancellation.
    """
    ln_u, w_ln = gauss_legendre_panels(np.linspace(np.log(lo), np.log(0.5), n_log_panels + 1), order)
    s, w_s = gauss_legendre_panels([0.0, np.sqrt(0.5)], order)
    u_low, u_high = np.exp(ln_u), 1.0 - s**2
    return (np.concatenate([u_low, u_high]), np.concatenate([w_ln * u_low, 2.0 * s * w_s]),
            np.concatenate([np.sqrt(1.0 - u_low), s]))
