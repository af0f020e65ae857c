"""Batched evaluation of the KKI models: the cost per parameter set in batches of 1, 8, 32 and 128 against the
unbatched path (``model.eval``, one parameter set a call), same process, same draws; the batch must equal the single
evaluations to 1e-12.

The draws vary the shared free parameters of benchmarks/sampling.py (η_c, ξ_c, log10 N, χ_1, χ_2) within ±20 % of
the reference glass (the rest at the defaults).  Inputs are trusted, as in a likelihood evaluation.

    python benchmarks/batch.py
"""

from __future__ import annotations

import timeit

import numpy as np

from glassfit.models import (
    KKIAttenuationModel,
    KKIConductivityModel,
    KKIHeatCapacityModel,
    KKIHeatReleaseModel,
    KKITimeHeatModel,
)
from glassfit.validation import trusted_inputs

BATCHES = (1, 8, 32, 128)
FREE = ("eta_c", "xi_c", "log10_N", "chi_1", "chi_2")
CASES = (
    ("KKI c(T), 100 T", KKIHeatCapacityModel(), {"T": np.geomspace(0.05, 0.8, 100)}),
    ("KKI κ(T), 50 T", KKIConductivityModel(), {"T": np.geomspace(0.05, 0.8, 50)}),
    ("KKI l⁻¹(f, T), 2 f × 6 T", KKIAttenuationModel(output="1/m"),
     {"f": np.repeat([1e3, 1e6], 6), "T": np.tile(np.geomspace(0.05, 0.5, 6), 2)}),
    ("KKI c(T, t), 10 T × 20 t", KKITimeHeatModel(),
     {"T": np.repeat(np.geomspace(0.05, 0.5, 10), 20), "t": np.tile(np.geomspace(1.0, 1e4, 20), 10)}),
    ("KKI Q̇(t), 3 quenches × 13 t", KKIHeatReleaseModel(),
     {"t": np.tile(np.geomspace(1e-6, 1e-3, 13), 3), "T": np.repeat([0.05, 0.1, 0.2], 13),
      "T1": np.repeat([0.15, 0.3, 0.6], 13)}),
)


def draws(model, size, rng):
    """``size`` parameter sets (name → array) near the defaults."""
    values = model.table_values(model.make_params())
    out = {name: np.full(size, value) for name, value in values.items()}
    for name in FREE:
        if name in out:
            spread = 0.2 * abs(values[name]) if name != "log10_N" else 0.2
            out[name] = values[name] + spread * rng.uniform(-1.0, 1.0, size)
    return out


def best_of(call, repeat=11) -> float:
    """Fastest time of one ``call`` [s]."""
    number = max(1, int(0.3 / max(timeit.timeit(call, number=1), 1e-6)))
    return min(timeit.repeat(call, number=number, repeat=repeat)) / number


def measure(label, model, x, rng) -> str:
    """One row: the single evaluation and each batch size, per parameter set, and the largest difference."""
    sets = draws(model, max(BATCHES), rng)
    rows = [{n: float(v[i]) for n, v in sets.items()} for i in range(max(BATCHES))]
    with trusted_inputs():
        single = np.stack([model.func(**x, **row) for row in rows[:8]])
        t_single = best_of(lambda: [model.func(**x, **row) for row in rows[:8]]) / 8
        worst = np.max(np.abs(model.evaluate_batch(x, {n: v[:8] for n, v in sets.items()}) / single - 1))
        cells = []
        for size in BATCHES:
            part = {n: v[:size] for n, v in sets.items()}
            t_batch = best_of(lambda part=part: model.evaluate_batch(x, part)) / size
            cells.append(f"{t_batch * 1e3:7.3f} ({t_single / t_batch:3.1f}×)")
    return f"{label:<28}{t_single * 1e3:8.3f}ms" + "".join(f"{c:>13}" for c in cells) + f"{worst:15.1e}"


def main():
    rng = np.random.default_rng(0)
    print(f"{'model':<28}{'single':>10}" + "".join(f"{f'batch {b}':>13}" for b in BATCHES) + f"{'max rel diff':>15}")
    for case in CASES:
        print(measure(*case, rng))
    print("ms per parameter set; in parentheses the speed-up over the single evaluation")


if __name__ == "__main__":
    main()
