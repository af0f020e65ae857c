"""Ultrasonic models of the frequency f [Hz] and the temperature T [K] for one measured branch (physics.md §5.2–5.4):
attenuation (resonant plus one-phonon relaxation absorption) and the relative sound-velocity change δv/v, of the
standard tunnelling model and of the KKI soft potentials.

The kernels give the energy attenuation l⁻¹ [1/m] or δv/v (dimensionless); an attenuation model's ``output``
is "Q^-1" (internal friction l⁻¹ v/ω), "1/m" or "dB/m" (10/ln 10 · l⁻¹ = 4.343 l⁻¹).
"""

from __future__ import annotations

import numpy as np
from scipy.special import digamma

from glassfit import constants
from glassfit.batching import expand
from glassfit.constants import DB_PER_NEPER_ENERGY
from glassfit.models.base import GlassModel, Reference
from glassfit.models.kki import KKICoupled, kki_chi_si, kki_coupling_si, kki_material_si
from glassfit.models.rows import CHI_ROWS, DV0, GAMMA_ROWS, KKI_ROWS, P0, RHO, V_L, V_T
from glassfit.models.stm import relaxation_constant, tunnelling_strength
from glassfit.observables import scattering

ACOUSTIC_OUTPUTS = ("Q^-1", "1/m", "dB/m")

# The point of the STM references: the defaults (P̄ = 1e45 J⁻¹ m⁻³, γ_l = 1 eV, γ_t = 0.65 eV, the a-SiO2 ρ and
# velocities), f = 1 GHz and T = 0.1 K, where ħω/kT = 0.48 and ωτ_min(kT) = 5.7e4 ≫ 1; C_l = P̄γ_l²/(ρv_l²) and
# K_τ (physics.md §5.3) written out
_F_REF, _T_REF = 1e9, 0.1
_OMEGA_REF, _KT_REF = 2 * np.pi * _F_REF, constants.k_B * _T_REF
_X_REF = constants.hbar * _OMEGA_REF / _KT_REF
_C_L = 1e45 * constants.eV**2 / (2200.0 * 5800.0**2)
_K_TAU = ((constants.eV**2 / 5800.0**5 + 2 * (0.65 * constants.eV) ** 2 / 3750.0**5)
          / (2 * np.pi * 2200.0 * constants.hbar**4))


def angular_frequency(f):
    """ω = 2π f [rad/s] of frequencies f [Hz]."""
    return 2.0 * np.pi * np.asarray(f, float)


class AcousticModel(GlassModel):
    """An ultrasonic model of ``f`` [Hz] and ``T`` [K] for the measured ``branch`` "l" or "t"; the table is the
    ``physics_table``."""

    vectorised = True

    independent = ("f", "T")

    def __init__(self, branch: str = "l", **kwargs):
        if branch not in ("l", "t"):
            raise ValueError(f"branch must be 'l' or 't', got {branch!r}")
        self.branch = branch
        super().__init__(list(self.physics_table), **kwargs)


class AttenuationOutput:
    """Mixin of the attenuation models: the kernel's l⁻¹ [1/m] in ``output`` units "Q^-1", "1/m" or "dB/m".

    ``guess``: the amplitude (P̄ or log10 N) scaled by the geometric mean of data/model at the defaults (least
    squares in ln y) — the attenuation is proportional to it (l⁻¹ ∝ P̄, or ∝ N: the relaxation rates depend on
    neither), so exact for data of the model that differ in the amplitude alone.
    """

    def __init__(self, branch: str = "l", output: str = "Q^-1", **kwargs):
        if output not in ACOUSTIC_OUTPUTS:
            raise ValueError(f"output must be one of {ACOUSTIC_OUTPUTS}, got {output!r}")
        self.output = output
        super().__init__(branch, **kwargs)

    def output_from_si(self, inverse_mfp, x, si):
        """l⁻¹ [1/m] -> Q⁻¹ = l⁻¹ v/ω, 1/m, or dB/m."""
        if self.output == "Q^-1":
            return scattering.internal_friction(inverse_mfp, angular_frequency(x["f"]), si["v_" + self.branch])
        return inverse_mfp * DB_PER_NEPER_ENERGY if self.output == "dB/m" else inverse_mfp

    def guess_amplitudes(self, data, x, params):
        """The amplitude from the geometric mean of data/model (see the class docstring)."""
        self.scale_geometrically(data, x, params)


class VelocityShift:
    """Mixin of the δv/v models (dimensionless output "1"; the table ends with the offset row dv0).

    ``guess``: the amplitude and dv0 by linear least squares of the data on (the model at the defaults with
    dv0 = 0, 1) — δv/v − dv0 is proportional to P̄, or to N, so exact for data of the model that differ in the
    amplitude and the offset alone.
    """

    def guess_amplitudes(self, data, x, params):
        """The amplitude and dv0 by linear least squares (see the class docstring)."""
        self.scale_linearly(data, x, params, offset=DV0.name)


class STMAcousticModel(AcousticModel):
    """Shared set-up of the STM ultrasonic models of ``f`` [Hz] and ``T`` [K] for one measured branch.

    C_α = P̄ γ_α²/(ρ v_α²) of the measured branch and K_τ [J⁻³ s⁻¹] of all branches (physics.md §5.2–5.4) come
    from P̄, γ_l, γ_t, ρ, v_l, v_t, shared with the other STM models.
    """

    physics_table = (P0, *GAMMA_ROWS, RHO, V_L, V_T)
    amplitude = "P0"

    def acoustic_constants(self, si) -> tuple[float, float, float]:
        """(C_α, K_τ [J⁻³ s⁻¹], v_α [m s⁻¹]) of the measured branch α from the SI row values."""
        return tunnelling_strength(self.branch, si), relaxation_constant(si), si["v_" + self.branch]

    def derived_quantities(self, values: dict, x: dict) -> dict[str, tuple[float, str, str]]:
        """C_α = P̄ γ_α²/(ρ v_α²) of the measured branch α (physics.md §0, §5.2), from values in table units."""
        b = self.branch
        return {f"C_{b}": (tunnelling_strength(b, self.si(values)), "1",
                           f"tunnelling strength P̄γ_{b}²/(ρv_{b}²) of the measured branch")}


class STMAttenuationModel(AttenuationOutput, STMAcousticModel):
    """STM ultrasonic attenuation: resonant + one-phonon relaxation absorption (physics.md §5.2, §5.4).

    ``output`` "Q^-1" (internal friction), "1/m" (energy attenuation l⁻¹) or "dB/m" (4.343 l⁻¹).
    """

    name_id = "stm_attenuation"
    # closed form (physics.md §5.2, §5.4, §9 item 17): resonant π C tanh(ħω/2kT) plus the relaxation limit
    # (π⁴/12) C K_τ (kT)³/ω of ωτ_min ≫ 1.  The relaxation term is 9e-5 of the total and its asymptotic form holds
    # to ≈ 1e-6 here, hence rtol 1e-9, which still sees an error of 1e-5 in that term
    reference = Reference({}, {"f": _F_REF, "T": _T_REF},
                          np.pi * _C_L * np.tanh(_X_REF / 2) + np.pi**4 / 12 * _C_L * _K_TAU * _KT_REF**3 / _OMEGA_REF,
                          rtol=1e-9)

    def kernel(self, f, T, **si):
        """l⁻¹ [1/m]: resonant plus relaxation absorption."""
        omega = angular_frequency(f)
        c, k_tau, v = self.acoustic_constants(si)
        return (scattering.resonant_inverse_mfp(omega, T, c, v)
                + scattering.relaxation_inverse_mfp(omega, T, c, v, k_tau))


class STMVelocityModel(VelocityShift, STMAcousticModel):
    """STM relative sound-velocity change δv/v: resonant (digamma) + relaxation, plus an offset (physics.md §5.4)."""

    name_id = "stm_velocity"
    physics_table = (*STMAcousticModel.physics_table, DV0)
    # closed form (physics.md §5.4, §9 item 18): the resonant C [Re ψ(½ + ħω/(2πi kT)) + ln(kT/E_ref)], E_ref = k·1 K
    # (:func:`glassfit.observables.scattering.resonant_velocity_shift`); the relaxation shift (ωτ_min ≫ 1) is 3e-9
    # of it here
    reference = Reference({}, {"f": _F_REF, "T": _T_REF},
                          _C_L * (np.real(digamma(0.5 + _X_REF / (2j * np.pi))) + np.log(_T_REF)))

    def kernel(self, f, T, **si):
        """δv/v: resonant plus relaxation shift plus dv0."""
        omega = angular_frequency(f)
        c, k_tau, _ = self.acoustic_constants(si)
        return (scattering.resonant_velocity_shift(omega, T, c)
                + scattering.relaxation_velocity_shift(omega, T, c, k_tau) + expand(si["dv0"], omega.ndim))


class KKIAcousticModel(KKICoupled, AcousticModel):
    """Shared set-up of the KKI ultrasonic models of ``f`` [Hz] and ``T`` [K] for one measured branch.

    Every parameter name is shared with :class:`~glassfit.models.conductivity.KKIConductivityModel` (and the KKI
    rows with :class:`~glassfit.models.heat.KKIHeatCapacityModel`), so joint fits tie them.
    :meth:`derived_quantities` reports C_eff of the measured branch at E = 3 k T_ref.
    """

    physics_table = (*KKI_ROWS, *CHI_ROWS, RHO, V_L, V_T)

    @property
    def reporting_branch(self) -> str:
        """The measured branch."""
        return self.branch


class KKIAttenuationModel(AttenuationOutput, KKIAcousticModel):
    """KKI ultrasonic attenuation of one branch: resonant absorption plus one-phonon relaxation, TLS by
    TLS with exact |x_ge|², (x_ee − x_gg)² and couplings χ_j (physics.md §5.2, §5.4).

    ``output`` "Q^-1", "1/m" or "dB/m"; ``relaxation=False`` keeps the resonant part alone.
    """

    name_id = "kki_attenuation"
    # the value this implementation gives (Q⁻¹, defaults, f = 1 MHz, T = 0.1 K); the physics is checked
    # independently by tests/test_scattering.py::test_kki_relaxation_against_direct_quadrature (the relaxation
    # part), ::test_kki_relaxation_low_temperature_t_cubed and ::test_kki_resonant_reduces_to_the_stm_form
    reference = Reference({}, {"f": 1e6, "T": 0.1}, 1.2519961074963467e-05)

    def __init__(self, branch: str = "l", output: str = "Q^-1", relaxation: bool = True, **kwargs):
        self.relaxation = bool(relaxation)
        super().__init__(branch, output, **kwargs)

    def kernel(self, f, T, **si):
        """l⁻¹ [1/m]: resonant plus (unless ``relaxation=False``) relaxation absorption."""
        omega = angular_frequency(f)
        v = si["v_" + self.branch]
        inv = scattering.kki_resonant_inverse_mfp(omega, T, kki_coupling_si(self.branch, si), si["rho"], v)
        if self.relaxation:
            scales, dist = kki_material_si(si)
            q_rel = scattering.kki_relaxation(omega, T, scales, dist, kki_chi_si(si), si["rho"], si["v_l"],
                                              si["v_t"], self.branch, velocity=False)[0]
            inv = inv + q_rel * omega / expand(v, omega.ndim)
        return inv


class KKIVelocityModel(VelocityShift, KKIAcousticModel):
    """KKI relative sound-velocity change of one branch: the resonant principal-value integral with the
    exact energy-dependent coupling plus TLS-by-TLS relaxation, plus an offset (physics.md §5.4)."""

    name_id = "kki_velocity"
    physics_table = (*KKIAcousticModel.physics_table, DV0)
    #: the principal value's upper limit 0.8 w is not exponentially hidden (the T = 0 part of δv/v depends on it), so
    #: sets of different w cannot share one quadrature: a batch is evaluated set by set
    vectorised = False
    # the value this implementation gives (defaults, f = 1 MHz, T = 0.1 K); the physics is checked independently
    # by tests/test_scattering.py::test_kki_resonant_velocity_with_constant_coupling_is_the_digamma_form,
    # ::test_kki_resonant_velocity_against_adaptive_quadrature (the principal-value integral) and
    # ::test_kki_relaxation_against_direct_quadrature
    reference = Reference({}, {"f": 1e6, "T": 0.1}, -0.0027121065966262724)

    def kernel(self, f, T, **si):
        """δv/v: resonant (up to E_max = 0.8 w) plus relaxation shift plus dv0."""
        omega = angular_frequency(f)
        v = si["v_" + self.branch]
        scales, dist = kki_material_si(si)
        resonant = scattering.kki_resonant_velocity_shift(omega, T, kki_coupling_si(self.branch, si), si["rho"],
                                                          v, e_max=0.8 * scales.w)
        relax = scattering.kki_relaxation(omega, T, scales, dist, kki_chi_si(si), si["rho"], si["v_l"],
                                          si["v_t"], self.branch)[1]
        return resonant + relax + si["dv0"]


__all__ = ["ACOUSTIC_OUTPUTS", "AcousticModel", "AttenuationOutput", "KKIAcousticModel", "KKIAttenuationModel",
           "KKIVelocityModel", "STMAcousticModel", "STMAttenuationModel", "STMVelocityModel", "VelocityShift",
           "angular_frequency"]
