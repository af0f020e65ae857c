"""Figure and table: how often the true law wins, KKI against Black's logarithm, on SYNTHETIC c(T, t).

Runs :func:`glassfit.discrimination.time_law_discrimination` (seeded) and writes
``time_law_discrimination.csv`` and ``time_law_discrimination.png`` beside this file.  The notebook
``notebooks/04_time_dependent_heat.ipynb`` runs the same study with fewer replicates.

Run: python docs/figures/time_law_discrimination.py [replicates]   (default 100; ≈ 2 min on 2 cores)
"""

import sys
from pathlib import Path

import matplotlib.pyplot as plt

from glassfit.discrimination import STUDY_TEMPERATURE, time_law_discrimination


def plot(table, ax):
    """Fraction of wins of the true law against t_max/τ̃, one line per (truth, noise)."""
    for (truth, noise), rows in table.groupby(["truth", "noise"]):
        style = "-" if truth == "KKI" else "--"
        ax.semilogx(rows["t_max_over_crossover"], rows["fraction"], style, marker="o",
                    label=f"truth {truth}, σ = {noise:.0%}")
    ax.axhline(0.5, color="0.6", lw=0.8)
    ax.axvline(1.0, color="0.6", lw=0.8, ls=":")
    ax.set_xlabel(r"$t_\mathrm{max}/\tilde\tau$  (window from 1 µs)")
    ax.set_ylabel("fraction of replicates the true law wins (ΔBIC)")
    ax.set_ylim(0.3, 1.02)
    ax.set_title(f"SYNTHETIC c(T, t) at T = {STUDY_TEMPERATURE} K: KKI vs Black", fontsize=10)
    ax.legend(fontsize=8)


def main(replicates=100):
    table = time_law_discrimination(decades=(1, 2, 3, 4, 5, 6, 8), replicates=replicates)
    here = Path(__file__).parent
    table.to_csv(here / "time_law_discrimination.csv", index=False, float_format="%.6g")
    fig, ax = plt.subplots(figsize=(6, 4), constrained_layout=True)
    plot(table, ax)
    fig.savefig(here / "time_law_discrimination.png", dpi=150)
    print(table.to_string(index=False))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100)
