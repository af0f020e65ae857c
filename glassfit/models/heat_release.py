"""Heat-release models Q̇(t, T, T1) after a quench from T1 [K] to the bath temperature T [K], t [s] later
(physics.md §7.3): the STM (Parshin & Sahling's (π²/24) P̄ k² (T1² − T²)/t, exactly) and the KKI law, TLS by TLS.

No phonon term: the phonons follow the bath at once.  Output per mass ("W/g", needs ρ) or per volume ("W/m3").
"""

from __future__ import annotations

import numpy as np

from glassfit import constants
from glassfit.batching import expand
from glassfit.models.base import GlassModel, Reference
from glassfit.models.kki import KKICoupled, kki_chi_si, kki_material_si, kki_validity_warnings
from glassfit.models.rows import CHI_ROWS, D0_MIN, GAMMA_ROWS, KKI_ROWS, P0, RHO, V_L, V_T
from glassfit.models.stm import relaxation_constant
from glassfit.observables import timeheat

RELEASE_UNITS = ("W/g", "W/m3")


class HeatReleaseModel(GlassModel):
    """Q̇ [output units] of t [s], the bath T [K] and the temperature before the quench T1 [K]: the SI kernel
    ``release(t, T, T1, **si)`` [W m⁻³] of a subclass.  ``guess``: the amplitude from the geometric mean of
    data/model (Q̇ ∝ the amplitude's quantity: exact for data of the model that differ in it alone)."""

    independent = ("t", "T", "T1")

    def __init__(self, output: str = "W/g", **kwargs):
        if output not in RELEASE_UNITS:
            raise ValueError(f"output must be one of {RELEASE_UNITS}, got {output!r}")
        self.output = output
        super().__init__(self.physics_table, **kwargs)

    def output_from_si(self, value, x, si):
        """Q̇ [W m⁻³] in ``output`` units."""
        if self.output == "W/g":
            return constants.volumetric_to_specific(value, expand(si["rho"], len(x["t"].shape)))
        return value

    def guess_amplitudes(self, data, x, params):
        self.scale_geometrically(data, x, params)


class BlackHeatReleaseModel(HeatReleaseModel):
    """STM heat release (physics.md §7.3): Q̇ = (P̄/2t) ∫ dE E [f(E/kT1) − f(E/kT)] H(t/τ_min(E, T)), exact in
    the relaxation-time distribution P̄/(2τ sqrt(1 − τ_min/τ)); → (π²/24) P̄ k² (T1² − T²)/t once t ≫ τ_min(kT1).
    Shares P0, γ_l, γ_t, ρ and the velocities with the other STM models.  ``cutoff=True`` adds the smallest tunnel
    splitting Δ0,min (row ``D0_min``): Q̇ then falls faster than 1/t beyond τ_max(E) = τ_min(E) (E/Δ0,min)²."""

    name_id = "black_heat_release"
    physics_table = (P0, *GAMMA_ROWS, RHO, V_L, V_T)
    amplitude = "P0"
    vectorised = True
    # (π²/24) P̄ k² (T1² − T²)/t / ρ / 1000 at P̄ = 1e45 J⁻¹ m⁻³, T = 0.1 K, T1 = 0.3 K, t = 100 s, where H = 1 to
    # 1e-8 (physics.md §7.3; tests/test_timeheat.py checks H and the asymptote independently)
    reference = Reference({}, {"t": 100.0, "T": 0.1, "T1": 0.3},
                          3.1415926535897931**2 / 24 * 1e45 * constants.k_B**2 * (0.09 - 0.01) / 100.0 / 2.2e6,
                          rtol=1e-7)

    def __init__(self, output: str = "W/g", cutoff: bool = False, **kwargs):
        self.cutoff = bool(cutoff)
        if self.cutoff:
            self.physics_table = (*type(self).physics_table, D0_MIN)
        super().__init__(output, **kwargs)

    def kernel(self, t, T, T1, **si):
        if self.cutoff:
            return timeheat.black_cutoff_heat_release(t, T, T1, si["P0"], relaxation_constant(si), si["D0_min"])
        return timeheat.black_heat_release(t, T, T1, si["P0"], relaxation_constant(si))


class KKIHeatReleaseModel(KKICoupled, HeatReleaseModel):
    """KKI heat release (physics.md §7.3): every TLS of both types with its exact splitting and its exact
    one-phonon rate at the bath temperature T, Q̇ = Σ_TLS E [f(E/kT1) − f(E/kT)] e^(−t/τ)/τ.  Below the
    crossover τ̃(T) = (w/kT)² τ_min it follows t⁻¹ as the STM's; beyond it falls faster, as the conditional
    density p_j(τ|u) ∝ τ⁻¹ [1 + ln(τ/τ_min)/OBS]^(−4/3) (KKI eq. 6.2).  Shares every KKI name.  A batch of
    parameter sets is evaluated at once where it shares w (the TLS are taken at energies x kT, which sit at
    ũ = x kT/w), else one set of w after another."""

    name_id = "kki_heat_release"
    vectorised = True
    physics_table = (*KKI_ROWS, *CHI_ROWS, RHO, V_L, V_T)
    amplitude = "log10_N"
    # the value this implementation gives (W/g, defaults, t = 100 s, T = 0.1 K, T1 = 0.3 K); the physics is checked
    # independently by tests/test_timeheat.py::test_kki_heat_release_integrates_to_the_heat_capacity (∫ Q̇ dt =
    # ∫ c dT over the quench, through the c(T, t) code)
    reference = Reference({}, {"t": 100.0, "T": 0.1, "T1": 0.3}, 4.399056269228161e-12)

    def kernel(self, t, T, T1, **si):
        w = np.asarray(si["w"], float)
        if w.ndim and np.any(w != w.flat[0]):
            return np.stack([self.kernel(t, T, T1, **{k: v[i] if np.ndim(v) else v for k, v in si.items()})
                             for i in range(w.size)])
        scales, dist = kki_material_si(si | {"w": float(w.flat[0])})
        return timeheat.kki_heat_release(t, T, T1, scales, dist, kki_chi_si(si), si["rho"], si["v_l"], si["v_t"])

    def validity_warnings(self, values: dict, x: dict) -> list[str]:
        """kT1 > w/25 at some points: the two-level description of the hottest state (:func:`kki_validity_warnings`)."""
        return kki_validity_warnings(values, {"T": x["T1"]})


__all__ = ["RELEASE_UNITS", "BlackHeatReleaseModel", "HeatReleaseModel", "KKIHeatReleaseModel"]
