"""Thermal-conductivity models κ(T) [W m⁻¹ K⁻¹] of the temperature T [K] (physics.md §6).

The kinetic integral over the phonons of both branches, with the inverse mean free path of each branch the sum
(Matthiessen's rule, physics.md §5.6) of resonant scattering by the tunnelling states (STM or KKI, physics.md
§5.2), a plateau mechanism (Rayleigh A_R ω⁴, or the soft-potential vibrations of energy W, physics.md §5.5) and
boundary scattering 1/L.
"""

from __future__ import annotations

import numpy as np

from glassfit import constants
from glassfit.batching import expand
from glassfit.density import mean_separation
from glassfit.models.base import GlassModel, Reference, as_values
from glassfit.models.kki import KKICoupled, kki_coupling_si, kki_material
from glassfit.models.rows import (
    BOUNDARY,
    C_TLS,
    CHI_ROWS,
    KKI_ROWS,
    RAYLEIGH,
    RHO,
    V_L,
    V_T,
    W_SPM,
)
from glassfit.observables import scattering
from glassfit.observables.conductivity import POLARISATIONS, thermal_conductivity

PLATEAUS = ("rayleigh", "spm", "none")
#: E/w at which the KKI tunnelling strength of the soft-vibration term is taken (E = 0.1 w).
STRENGTH_FRACTION = 0.1


class ConductivityModel(GlassModel):
    """Thermal-conductivity models κ(T) [W m⁻¹ K⁻¹] (physics.md §6): the subclass's tunnelling-state
    scattering ``tls_inverse_mfp(polarisation, ω, T, si)`` [1/m] plus a plateau mechanism and boundary
    scattering, combined per branch by Matthiessen's rule.

    Parameters
    ----------
    plateau : {"rayleigh", "spm", "none"}
        Rayleigh A_R ω⁴ (model-free), the SPM's soft-vibration scattering with energy W [K], or none.
    boundary : bool
        Add l⁻¹ = 1/L, L [m].

    ``guess``: the tunnelling-state amplitude (C or log10 N) scaled by the geometric mean of model/data at the
    defaults, taking κ ∝ 1/amplitude: exact where the tunnelling states dominate the scattering (the plateau and
    boundary rows stay at their defaults; within 1 % of C, or 0.005 in log10 N, for data of the a-SiO2 defaults
    over 0.05–1 K at another amplitude).
    """

    vectorised = True

    output = "W/(m K)"

    def __init__(self, plateau: str = "rayleigh", boundary: bool = False, **kwargs):
        if plateau not in PLATEAUS:
            raise ValueError(f"plateau must be 'rayleigh', 'spm' or 'none', got {plateau!r}")
        self.plateau, self.boundary = plateau, bool(boundary)
        table = [*self.physics_table, V_L, V_T]
        table += {"rayleigh": [RAYLEIGH], "spm": [W_SPM], "none": []}[plateau]
        if self.boundary:
            table.append(BOUNDARY)
        super().__init__(table, **kwargs)

    def kernel(self, T, **si):
        """κ(T) [W m⁻¹ K⁻¹] from the SI row values."""
        velocity = {"l": si["v_l"], "t": si["v_t"]}

        def inverse_mfp(pol, omega, temps):
            total = self.tls_inverse_mfp(pol, omega, temps, si)
            if self.plateau == "rayleigh":
                total = total + scattering.rayleigh_inverse_mfp(omega, si["A_R"])
            elif self.plateau == "spm":
                total = total + scattering.spm_vibration_inverse_mfp(omega, self.strength_si(pol, si),
                                                                     velocity[pol], si["W"])
            if self.boundary:
                total = total + 1.0 / expand(si["L"], np.ndim(omega))
            return total

        return thermal_conductivity(np.asarray(T, float), inverse_mfp, si["v_l"], si["v_t"])

    def tls_inverse_mfp(self, pol, omega, T, si):
        """l⁻¹ [1/m] of the tunnelling states on branch ``pol`` at ω [rad/s], T [K], from the SI row values."""
        raise NotImplementedError

    def strength_si(self, pol, si) -> float:
        """The dimensionless tunnelling strength C of branch ``pol`` from the SI row values."""
        raise NotImplementedError

    def strength(self, pol, params) -> float:
        """The dimensionless tunnelling strength C of branch ``pol`` from parameter values in table units (a dict
        or Parameters)."""
        return self.strength_si(pol, self.si(as_values(params)))

    def guess_amplitudes(self, data, x, params):
        """The amplitude from the geometric mean of model/data, κ ∝ 1/amplitude (see the class docstring)."""
        self.scale_geometrically(data, x, params, power=-1.0)


class STMConductivityModel(ConductivityModel):
    """Standard tunnelling model κ(T): resonant scattering (π ω C/v) tanh(ħω/2kT) per branch (physics.md §5.2, §6).

    κ from the tunnelling states alone is Σ_α m_α k³T²/(6πħ² C v_α) (m_l = 1, m_t = 2): it fixes C·v_eff, not C and
    the velocities separately — leave the velocities fixed at cited values or constrain them by priors.
    """

    name_id = "stm_conductivity"
    physics_table = (C_TLS,)
    amplitude = "C"
    # closed form k³T²/(6πħ²C) Σ_α m_α/v_α (physics.md §6, §9 item 15) at C = 3e-4, T = 1 K; the smallest Rayleigh
    # term changes it by < 1e-8
    reference = Reference({"C": 3.0, "v_l": 5800.0, "v_t": 3750.0, "log10_A_R": -50.0}, {"T": 1.0},
                          constants.k_B**3 / (6 * np.pi * constants.hbar**2 * 3e-4) * (1 / 5800.0 + 2 / 3750.0))

    def strength_si(self, pol, si):
        """C, equal for both branches."""
        return si["C"]

    def derived_quantities(self, values: dict, x: dict) -> dict[str, tuple[float, str, str]]:
        """κ_TLS/T² = k³/(6πħ²) Σ_α m_α/(C v_α) [W m⁻¹ K⁻³] (m_l = 1, m_t = 2; physics.md §6, §9 item 15) and
        C·v_l [m s⁻¹]."""
        c = self.strength("l", values)
        velocity = {"l": values["v_l"], "t": values["v_t"]}
        kappa_t2 = constants.k_B**3 / (6.0 * np.pi * constants.hbar**2) * sum(
            m / (c * velocity[pol]) for pol, m in POLARISATIONS.items())
        return {"kappa_T2": (kappa_t2, "W m^-1 K^-3", "TLS-limited κ/T² = k³/(6πħ²) Σ_α m_α/(C v_α)"),
                "C_v_l": (c * values["v_l"], "m s^-1", "tunnelling strength times longitudinal velocity, C·v_l")}

    def tls_inverse_mfp(self, pol, omega, T, si):
        """(π ω C/v_α) tanh(ħω/2kT) (physics.md §5.2)."""
        return scattering.resonant_inverse_mfp(omega, T, self.strength_si(pol, si), si["v_" + pol])


class KKIConductivityModel(KKICoupled, ConductivityModel):
    """KKI κ(T): resonant scattering by both TLS types with exact |x_ge|² and couplings χ_j (physics.md §5.2, §6).

    Shares η_c, ξ_c, log10_N, w, η_L, ξ_L (and ρ, v_l, v_t) with :class:`~glassfit.models.heat.KKIHeatCapacityModel`
    for joint fits.  With ``plateau="spm"`` the soft-vibration term uses the tunnelling strength of the TLS at
    E = 0.1 w (:meth:`strength`).  :meth:`derived_quantities` reports the longitudinal C_eff and its log-slope μ at
    E = 3 k T_ref, the combinations κ ∝ T²/(C v) fixes.
    """

    name_id = "kki_conductivity"
    physics_table = (*KKI_ROWS, *CHI_ROWS, RHO)
    # the value this implementation gives (W/(m K), defaults, T = 0.1 K); the physics is checked independently by
    # tests/test_scattering.py::test_kki_conductivity_against_direct_quadrature (adaptive quadrature of fresh
    # coupling nodes, benchmarks/conductivity.py) and ::test_kki_resonant_reduces_to_the_stm_form
    reference = Reference({}, {"T": 0.1}, 0.00032714014707079783)

    def tls_inverse_mfp(self, pol, omega, T, si):
        """KKI resonant l⁻¹ with the exact coupling Σ_j χ_jα² X_j(ħω) (physics.md §5.2)."""
        return scattering.kki_resonant_inverse_mfp(omega, T, kki_coupling_si(pol, si), si["rho"], si["v_" + pol])

    def deformation_potentials(self, params, T):
        """(D_1, D_2) [eV] of the longitudinal coupling at u = kT, T [K]: D_j = χ_j sqrt⟨δy_eff²⟩ (KKI eq. 5.6), from
        parameter values in table units (χ in eV)."""
        values = as_values(params)
        scales, dist = kki_material(values)
        sep = mean_separation(constants.k_B * np.asarray(T, float), scales, dist)
        return values["chi_1"] * sep[0], values["chi_2"] * sep[1]

    def strength_si(self, pol, si):
        """C_α^KKI = Σ_j χ_j² X_j(E)/(ρ v_α²) at E = 0.1 w (physics.md §5.2)."""
        coupling = kki_coupling_si(pol, si).at_fraction(STRENGTH_FRACTION)
        return coupling / (si["rho"] * si["v_" + pol] ** 2)


__all__ = ["PLATEAUS", "STRENGTH_FRACTION", "ConductivityModel", "KKIConductivityModel", "STMConductivityModel"]
