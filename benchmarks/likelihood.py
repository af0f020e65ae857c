"""One log-posterior evaluation of glassfit's objectives, with the physics' input checks skipped (the dataset was
checked once, when it was made: ``glassfit.validation.trusted_inputs``) against the same evaluation with every
check run, in the same process.  Catalogued data: Stycast 1266 κ(T) (measured, 13 points; needs GLASSFIT_DATA_DIR)
and the bundled SYNTHETIC c(T) and κ(T) sets.

    python benchmarks/likelihood.py
"""

from __future__ import annotations

import timeit

import numpy as np

from glassfit.workflow import RunSpec, build

CASES = (("kki", "stycast-1266"), ("stm", "stycast-1266"), ("kki", "synthetic-kki-heat-capacity"),
         ("kki", "synthetic-kki-conductivity"))


def best_of(call, number=200, repeat=15) -> float:
    """Fastest mean time of ``call`` [s] over ``repeat`` runs of ``number`` calls."""
    return min(timeit.repeat(call, number=number, repeat=repeat)) / number


def checked_logl(objective, named) -> float:
    """The known-σ log-likelihood with the data handed in from outside, so that every physics check runs."""
    m = objective.model_values(named, objective.data.x)
    s = objective.sigma(named)
    z = (objective.data.y - m) / s
    return -0.5 * float(np.dot(z, z)) - float(np.sum(np.log(s))) - 0.5 * z.size * np.log(2 * np.pi)


def compare(family, source) -> str:
    """One row: the trusted and the checked evaluation of ``family``'s objective on ``source``."""
    objective = build(RunSpec((source,), family, method="leastsq")).objective
    theta = objective.theta()
    named = objective.named(theta)
    for _ in range(20):
        objective.logpost(theta), checked_logl(objective, named)
    t_trusted = best_of(lambda: objective.logpost(theta))
    t_checked = best_of(lambda: checked_logl(objective, named))
    same = np.isclose(objective.logl(theta), checked_logl(objective, named), rtol=1e-13, atol=0)
    return (f"{family:5} {source:30} {t_trusted * 1e6:8.1f} µs {t_checked * 1e6:8.1f} µs "
            f"{t_checked / t_trusted:8.2f} ×  {same}")


def main():
    print(f"{'model':5} {'data':30} {'trusted':>10} {'checked':>10} {'speed-up':>9}  same value")
    for family, source in CASES:
        print(compare(family, source))


if __name__ == "__main__":
    main()
