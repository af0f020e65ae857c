"""Figure: how the KKI two-level density of states n_j(u) depends on u (physics.md §3.2).

Left: flat h, g with barrier cutoffs A_b,max — n w/(N η_L ξ_L h* g*) against u/w, with the closed form
3 K_σ [σ0^(−1/3) − σ_max^(−1/3)] (dashed): "logarithmically weak" in u.  Right: both KKI types for the
curve-1 and curve-2 shapes of g(ξ).

Run: python docs/figures/density_of_states.py   (writes density_of_states.png beside this file)
"""

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from scipy.optimize import brentq

from glassfit.density import tls_density
from glassfit.distributions import KKIDistribution
from glassfit.observables.timeheat import K_SIGMA
from glassfit.potential import PotentialScales, SoftPotential, instanton_action
from glassfit.tables import default_tables


def main():
    tables = default_tables()
    unit = PotentialScales(1.0, 1.0, 1.0)
    u = np.geomspace(1e-6, 0.5, 60)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    for a_max, colour in ((12.0, "C0"), (16.0, "C1"), (24.0, "C2")):
        n = tls_density(u, unit, lambda e, x: np.ones(np.broadcast(e, x).shape), barrier_max=a_max)[1]
        ax1.plot(u, n, color=colour, label=f"$A_{{b,\\max}}$ = {a_max:g}")
        ok = u > tables.symmetric_amplitude(a_max)
        s0 = np.array([instanton_action(brentq(lambda a, v=v: np.log(tables.symmetric_amplitude(a) / v),
                                               2.0, 40.0)) for v in u[ok]])
        ax1.plot(u[ok], 3 * K_SIGMA * (s0 ** (-1 / 3) - instanton_action(a_max) ** (-1 / 3)), "--", color=colour)
    ax1.set(xscale="log", xlabel="$u/w$", ylabel=r"$n\,w/(N\eta_L\xi_L h^* g^*)$",
            title="flat h, g: exact (solid); bare closed form (dashed, ≈ 10 % low)")
    ax1.legend(frameon=False)

    pot = SoftPotential.from_units(A=1.0, B=1.0, C=1.0, mass=24.25)
    for shape, style in (("curve1", "-"), ("curve2", ":")):
        n1, n2 = tls_density(u * pot.w, pot, KKIDistribution(0.8, 1.2, 1e27, g_shape=shape))
        ax2.plot(u, n1 * pot.w, "C3" + style, label=f"type 1, g {shape}")
        ax2.plot(u, n2 * pot.w, "C4" + style, label=f"type 2, g {shape}")
    ax2.set(xscale="log", yscale="log", xlabel="$u/w$", ylabel=r"$n_j\,w$  [m$^{-3}$]",
            title=r"KKI: $\eta_c = 0.8$, $\xi_c = 1.2$, $N = 10^{27}$ m$^{-3}$")
    ax2.legend(frameon=False, fontsize=8)
    fig.savefig(Path(__file__).with_suffix(".png"), dpi=150)


if __name__ == "__main__":
    main()
