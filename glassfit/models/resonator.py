"""Models of superconducting microwave resonators whose dielectric holds TLS (docs/physics.md §11): the internal loss
1/Q_i of the resonance frequency f [Hz], the temperature T [K] and the mean photon number n, and the fractional
frequency shift δf/f of f and T, of the standard tunnelling model (the forms the resonator community fits) and of
the KKI soft potentials (the dipole p = e* a0 y in place of the deformation coupling).

Every model adds the superconductor's Mattis–Bardeen quasiparticle terms, switched off by the default α_k = 0 (free
``alpha_k`` and ``T_c`` to fit them).  Loss and shift models share their parameter names (F δ⁰ or the KKI rows and
e*, T_c, α_k), so a joint fit of Q_i(T, n) and δf/f(T) of one resonator ties them.
"""

from __future__ import annotations

import numpy as np
from scipy.special import digamma

from glassfit import constants
from glassfit.batching import expand
from glassfit.models.base import GlassModel, Reference
from glassfit.models.kki import (
    KKIFamily,
    double_well_quantity,
    kki_material_si,
    kki_validity_warnings,
    log_slope,
)
from glassfit.models.rows import (
    BETA,
    DF0,
    DIPOLE_ROWS,
    FDELTA0,
    KKI_ROWS,
    LOSS_BG,
    N_C,
    SUPERCONDUCTOR_ROWS,
    ZETA,
)
from glassfit.observables import dielectric, scattering

#: Highest T/T_c of the low-temperature Mattis–Bardeen forms: σ₁ is then within 2.1 % of the Mattis–Bardeen integral
#: (kT/Δ ≤ 0.113; tests/test_dielectric.py)
QUASIPARTICLE_LIMIT = 0.2
#: Upper limit of the KKI principal-value integral, as a fraction of w: the top of the doublet tables (the shift from
#: T = 0 depends on it through e^(−0.8 w/kT) alone)
KKI_E_MAX = 0.8

# the point of the STM references: the defaults, f = 5 GHz, T = 0.1 K (ħω/2kT = 1.20), n = 100 photons
_F_REF, _T_REF, _N_REF = 5e9, 0.1, 100.0
_HALF_X = constants.hbar * 2 * np.pi * _F_REF / (2 * constants.k_B * _T_REF)


def angular_frequency(f):
    """ω = 2π f [rad/s] of resonance frequencies f [Hz]."""
    return 2.0 * np.pi * np.asarray(f, float)


def gap(si):
    """Δ = 1.764 k T_c [J] of the superconductor from the SI row values (kT_c [J])."""
    return dielectric.BCS_GAP_RATIO * si["kT_c"]


class ResonatorModel(GlassModel):
    """A resonator model: the table is the ``physics_table`` followed by the superconductor's rows."""

    vectorised = True

    def __init__(self, **kwargs):
        super().__init__([*self.physics_table, *SUPERCONDUCTOR_ROWS], **kwargs)

    def validity_warnings(self, values: dict, x: dict) -> list[str]:
        """T above :data:`QUASIPARTICLE_LIMIT` · T_c where the quasiparticle terms are on (α_k > 0)."""
        T = np.asarray(x["T"], float).ravel()
        above = T > QUASIPARTICLE_LIMIT * values["T_c"]
        if values["alpha_k"] > 0 and above.any():
            return [f"T > {QUASIPARTICLE_LIMIT:g} T_c at {above.sum()} of {T.size} points (T up to {T.max():.3g} K, "
                    f"T_c = {values['T_c']:.3g} K): the low-temperature Mattis–Bardeen forms need kT ≪ Δ"]
        return []


class LossModel(ResonatorModel):
    """Mixin of the loss models: 1/Q_i of f [Hz], T [K] and n [photons] = TLS loss + background + quasiparticles.

    ``guess``: the amplitude and the background by linear least squares of the data on (the model at the defaults
    with loss_bg = 0, 1): exact for data of the model that differ in those two alone.
    """

    independent = ("f", "T", "n")
    output = "1/Q"

    def kernel(self, f, T, n, **si):
        """1/Q_i: :meth:`tls_loss` + 1/Q_0 + α_k σ₁/σ₂."""
        omega = angular_frequency(f)
        background = expand(si["loss_bg"], omega.ndim)
        return (self.tls_loss(omega, T, n, si) + background
                + dielectric.quasiparticle_loss(omega, T, gap(si), si["alpha_k"]))

    def guess_amplitudes(self, data, x, params):
        """The amplitude and loss_bg by linear least squares (see the class docstring)."""
        self.scale_linearly(data, x, params, offset=LOSS_BG.name)


class ShiftModel(ResonatorModel):
    """Mixin of the shift models: δf/f of f [Hz] and T [K] = TLS shift + offset + quasiparticles.

    ``guess``: the amplitude and df0 by linear least squares, as for the loss.
    """

    independent = ("f", "T")
    output = "1"

    def kernel(self, f, T, **si):
        """δf/f: :meth:`tls_shift` + df0 + (α_k/2) δσ₂/σ₂
        (:func:`~glassfit.observables.dielectric.quasiparticle_shift`)."""
        omega = angular_frequency(f)
        return (self.tls_shift(omega, T, si) + expand(si["df0"], omega.ndim)
                + dielectric.quasiparticle_shift(omega, T, gap(si), si["alpha_k"]))

    def guess_amplitudes(self, data, x, params):
        """The amplitude and df0 by linear least squares (see the class docstring)."""
        self.scale_linearly(data, x, params, offset=DF0.name)


class STMResonatorLossModel(LossModel):
    """STM resonator loss 1/Q_i = F δ⁰ tanh(ħω/2kT)/(1 + n/n_c(T))^β + 1/Q_0 (+ Mattis–Bardeen)
    (docs/physics.md §11.1)."""

    name_id = "stm_resonator_loss"
    physics_table = (FDELTA0, N_C, BETA, ZETA, LOSS_BG)
    amplitude = "Fdelta0"
    # closed form: 1e-6 tanh(ħω/2kT)/√(1 + 100/1000) + 1e-8 (α_k = 0)
    reference = Reference({}, {"f": _F_REF, "T": _T_REF, "n": _N_REF},
                          1e-6 * np.tanh(_HALF_X) / np.sqrt(1.1) + 1e-8, rtol=1e-12)

    def tls_loss(self, omega, T, n, si):
        """F δ⁰ tanh(ħω/2kT)/(1 + n/n_c(T))^β."""
        return dielectric.tls_loss(omega, T, n, si["Fdelta0"], si["n_c"], si["beta"], si["zeta"])


class STMResonatorShiftModel(ShiftModel):
    """STM resonator δf/f = (F δ⁰/π)[Re ψ(½ + ħω/(2πi kT)) − ln(ħω/2πkT)] + (δf/f)_0 (+ Mattis–Bardeen)
    (docs/physics.md §11.1)."""

    name_id = "stm_resonator_shift"
    physics_table = (FDELTA0, DF0)
    amplitude = "Fdelta0"
    # closed form: (1e-6/π)[Re ψ(½ − i y) − ln y], y = ħω/(2π kT) = 0.382
    reference = Reference({}, {"f": _F_REF, "T": _T_REF},
                          1e-6 / np.pi * (np.real(digamma(0.5 - 1j * _HALF_X / np.pi)) - np.log(_HALF_X / np.pi)),
                          rtol=1e-12)

    def tls_shift(self, omega, T, si):
        """(F δ⁰/π)[Re ψ(½ + ħω/(2πi kT)) − ln(ħω/2πkT)]."""
        return dielectric.tls_frequency_shift(omega, T, si["Fdelta0"])


class KKIResonator(KKIFamily):
    """Mixin of the KKI resonator models: C_e(E) from the KKI rows and the dipole rows, and what is reported."""

    def strength(self, si):
        """C_e(E) = F Σ_j |p_ge|² X_j(E)/(3 ε₀ ε_r), a callable of E [J]
        (:func:`~glassfit.observables.dielectric.kki_dielectric_strength`)."""
        scales, dist = kki_material_si(si)
        return dielectric.kki_dielectric_strength(scales, dist, si["e_star"], si["a0"], si["eps_r"], si["F"])

    def derived_quantities(self, values: dict, x: dict) -> dict[str, tuple[float, str, str]]:
        """F δ⁰ = π C_e(ħω) at the data's median frequency, μ = d ln C_e/d ln E there, and the double-well
        fraction."""
        si = self.si(values)
        strength = self.strength(si)
        energy = constants.hbar * 2 * np.pi * float(np.median(np.asarray(x["f"], float)))
        return {"Fdelta0_eff": (float(np.pi * strength(np.array([energy]))[0]), "1",
                                "KKI F δ⁰ = π F Σ_j |p_ge|² X_j(ħω)/(3 ε₀ ε_r) at the median f"),
                "mu": (log_slope(strength, energy), "1", "log-slope d ln C_e/d ln E at E = ħω"),
                **double_well_quantity(values)}

    def validity_warnings(self, values: dict, x: dict) -> list[str]:
        """kT > w/25 (:func:`glassfit.models.kki.kki_validity_warnings`) and the quasiparticle condition."""
        return kki_validity_warnings(values, x) + super().validity_warnings(values, x)


class KKIResonatorLossModel(KKIResonator, LossModel):
    """KKI resonator loss: π C_e(ħω) tanh(ħω/2kT)/(1 + n/n_c(T))^β + 1/Q_0 (+ Mattis–Bardeen), C_e from the exact
    eigenvectors with the dipole p = e* a0 y (docs/physics.md §11.2)."""

    name_id = "kki_resonator_loss"
    physics_table = (*KKI_ROWS, *DIPOLE_ROWS, N_C, BETA, ZETA, LOSS_BG)
    # the value this implementation gives (defaults, 5 GHz, 0.1 K, 100 photons); the physics is checked by
    # tests/test_dielectric.py::test_kki_dielectric_is_the_acoustic_coupling_with_the_dipole
    reference = Reference({}, {"f": _F_REF, "T": _T_REF, "n": _N_REF}, 0.00023703197459127063, rtol=1e-9)

    def tls_loss(self, omega, T, n, si):
        """π C_e(ħω) tanh(ħω/2kT)/(1 + n/n_c(T))^β."""
        return (dielectric.kki_loss(omega, T, self.strength(si))
                / dielectric.saturation(T, n, si["n_c"], si["beta"], si["zeta"]))


class KKIResonatorShiftModel(KKIResonator, ShiftModel):
    """KKI resonator δf/f: −P∫_0^{0.8 w} C_e(E) [tanh(E/2kT) − 1] E/(E² − ħ²ω²) dE + (δf/f)_0 (+ Mattis–Bardeen),
    the shift from T = 0 with C_e from the exact eigenvectors and the dipole p = e* a0 y (docs/physics.md §11.2)."""

    name_id = "kki_resonator_shift"
    physics_table = (*KKI_ROWS, *DIPOLE_ROWS, DF0)
    # the value this implementation gives (defaults, 5 GHz, 0.1 K); the physics is checked by
    # tests/test_dielectric.py::test_principal_value_shift_is_the_digamma_form_for_a_constant_strength (the
    # principal value is glassfit.observables.scattering.principal_value_shift)
    reference = Reference({}, {"f": _F_REF, "T": _T_REF}, -1.607540945604076e-05, rtol=1e-9)

    def tls_shift(self, omega, T, si):
        """−P∫_0^{0.8 w} C_e(E) [tanh(E/2kT) − 1] E/(E² − ħ²ω²) dE; the limit (the smallest w of a batch) enters
        through e^(−0.8 w/kT) alone, < 2e-9 inside kT ≤ w/25."""
        e_max = KKI_E_MAX * float(np.min(si["w"]))
        return scattering.principal_value_shift(omega, T, self.strength(si), e_max)


__all__ = ["KKI_E_MAX", "QUASIPARTICLE_LIMIT", "KKIResonator", "KKIResonatorLossModel", "KKIResonatorShiftModel",
           "LossModel", "ResonatorModel", "STMResonatorLossModel", "STMResonatorShiftModel", "ShiftModel",
           "angular_frequency", "gap"]
