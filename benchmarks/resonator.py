"""KKI resonator frequency shift benchmark: the vectorised principal value against adaptive quadrature.

Prints the time of one KKIResonatorShiftModel evaluation on 51 temperatures (an NbN series; target ≤ 20 ms) and of
a batch of 32 parameter sets, and, in the same run, the same shift by scipy's Cauchy-weighted ``quad`` per
temperature (the method the acoustic KKI δv/v used before it took the same principal value), with the speed-up
(target ≥ 100×) and the largest difference relative to the shift's range (target ≤ 1e-6).

Run: python benchmarks/resonator.py
"""

from __future__ import annotations

import time
import warnings

import numpy as np
from common import best_of
from scipy.integrate import IntegrationWarning, quad

from glassfit import constants
from glassfit.models import KKIResonatorShiftModel
from glassfit.models.resonator import KKI_E_MAX

F0 = 8.175e9
T = np.geomspace(0.09, 0.9, 51)


def reference_shift(model, values) -> np.ndarray:
    """−P∫ C_e(E)[tanh(E/2kT) − 1] E/(E² − ħ²ω²) dE by quad, the pole by the Cauchy weight, one T at a time."""
    si = model.si(values)
    strength = model.strength(si)
    e0, e_max = constants.hbar * 2 * np.pi * F0, KKI_E_MAX * si["w"]
    out = []
    for temperature in T:
        kT = constants.k_B * temperature

        def g(E, kT=kT):
            return float(strength(np.atleast_1d(E))[0]) * (np.tanh(E / (2 * kT)) - 1) * E / (E + e0)

        near = quad(g, 1e-12 * e0, 2 * e0, weight="cauchy", wvar=e0, epsabs=0, epsrel=1e-12, limit=400)[0]
        far = quad(lambda E, g=g: g(E) / (E - e0), 2 * e0, e_max, epsabs=0, epsrel=1e-12, limit=400)[0]
        out.append(-(near + far))
    return np.array(out)


def main() -> None:
    model = KKIResonatorShiftModel()
    values = model.table_values(model.make_params())
    x = {"f": np.full(T.shape, F0), "T": T}
    fast = model.eval(**x, **values) - values["df0"] * 1e-6
    model.eval(**x, **values)                                           # tables loaded, caches warm
    t_fast = best_of(lambda: model.eval(**x, **values))
    rng = np.random.default_rng(1)
    batch = {k: np.full(32, v) for k, v in values.items()} | {"log10_N": rng.uniform(26, 28, 32),
                                                               "eta_c": rng.uniform(0.3, 1.2, 32)}
    t_batch = best_of(lambda: model.evaluate_batch(x, batch), 3)
    t0 = time.perf_counter()
    with warnings.catch_warnings():              # quad's round-off notes at epsrel 1e-12: the result is compared
        warnings.simplefilter("ignore", IntegrationWarning)
        reference = reference_shift(model, values)
    t_ref = time.perf_counter() - t0
    error = np.max(np.abs(fast - reference)) / np.ptp(reference)
    print(f"KKI δf/f, {T.size} temperatures:        {t_fast * 1e3:8.2f} ms / evaluation   (target ≤ 20 ms)")
    print(f"batch of 32 parameter sets:        {t_batch * 1e3:8.2f} ms ({t_batch / 32 * 1e3:.2f} ms a set)")
    print(f"reference (quad per T):            {t_ref:8.2f} s")
    print(f"speed-up:                          {t_ref / t_fast:8.0f} ×   (target ≥ 100 ×)")
    print(f"max difference / range of δf/f:    {error:8.1e}     (target ≤ 1e-6)")


if __name__ == "__main__":
    main()
