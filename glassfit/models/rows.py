"""The shared rows of the models' parameter tables: one :class:`glassfit.contract.ParameterSpec` per parameter.

A row's unit is an executable :class:`glassfit.constants.Unit`: ``row.to_si(value)`` is the value in SI units
(J, m, kg, s) that the model kernels take, under the keyword ``row.si`` (the row's name unless set, e.g.
"N" for log10_N).  Symbols and conventions: physics.md §0; the defaults are the reference glass a-SiO2
(physics.md §8) and the worked KKI magnitudes (physics.md §1.4).  The models compose their tables from these
rows (:mod:`glassfit.models.heat`, :mod:`~glassfit.models.conductivity`, :mod:`~glassfit.models.acoustic`,
:mod:`~glassfit.models.time_heat`), so that a name means one thing, with one unit, in every model and joint fits
tie it.
"""

from __future__ import annotations

from glassfit.constants import (
    ANGSTROM,
    CHARGE_E,
    DEBYE_T3,
    DIMENSIONLESS,
    ELECTRONVOLT,
    KELVIN_ENERGY,
    KG_PER_M3,
    KG_PER_MOL,
    LOG10_PER_M3,
    LOG10_RAYLEIGH,
    M_PER_S,
    METRE,
    PER_MILLION,
    PHOTONS,
    PPM,
    STM_DENSITY,
    STRENGTH_1E4,
)
from glassfit.contract import ParameterSpec, derived_row
from glassfit.models.base import ScaledInput

# --- material and phonons (physics.md §4.2, §8) ------------------------------------------------------------------

RHO = ParameterSpec("rho", KG_PER_M3, 2200.0, (100.0, 25000.0), r"\rho",
                    "mass density (default: a-SiO2, physics.md §8); set it for your glass", vary=False)
MOLAR_MASS = ParameterSpec("molar_mass", KG_PER_MOL, 0.06008, (1e-3, 10.0), r"M",
                           "molar mass (default: SiO2); used for J/(mol K) output", vary=False)
V_L = ParameterSpec("v_l", M_PER_S, 5800.0, (300.0, 15000.0), r"v_l",
                    "longitudinal sound velocity (default: a-SiO2, physics.md §8)", vary=False)
V_T = ParameterSpec("v_t", M_PER_S, 3750.0, (200.0, 10000.0), r"v_t",
                    "transverse sound velocity (default: a-SiO2, physics.md §8)", vary=False)
C3 = ParameterSpec("c3", DEBYE_T3, 1.755, (0.0, 1e4), r"c_3",
                   "free T³ coefficient (default: the a-SiO2 Debye value)")

# --- the KKI soft potentials (physics.md §1.1, §3.1) ------------------------------------------------------------

ETA_C = ParameterSpec("eta_c", DIMENSIONLESS, 0.8, (0.05, 1.5), r"\eta_c",
                      "decay scale of h(η) (KKI eq. 4.12); bounded so that double wells stay a minority: "
                      "29.5 % of all potentials at η_c = 1.5, ξ_c = 1.7 with the default η_L, ξ_L (physics.md §1.2)")
XI_C = ParameterSpec("xi_c", DIMENSIONLESS, 1.2, (0.02, 1.7), r"\xi_c",
                     "width of g(ξ) (KKI eq. 4.12); bounded with η_c (double-well fraction 29.5 % at the corner)")
LOG10_N = ParameterSpec("log10_N", LOG10_PER_M3, 27.78, (20.0, 29.0), r"\log_{10} N",
                        "concentration of soft potentials N (KKI §4); at most an atomic density, 1e29 m^-3", si="N")
W_KKI = ParameterSpec("w", KELVIN_ENERGY, 22.6, (1.0, 200.0), r"w", "energy scale w = C^(1/3) ε^(2/3) (KKI eq. 3.6)",
                  vary=False)
ETA_L = ParameterSpec("eta_L", DIMENSIONLESS, 0.0442, (1e-3, 1.0), r"\eta_L", "scale of η (KKI eq. 3.7)", vary=False)
XI_L = ParameterSpec("xi_L", DIMENSIONLESS, 0.2102, (1e-3, 3.0), r"\xi_L", "scale of ξ (physics.md §1.1)", vary=False)
#: The rows of every KKI model: the distribution f = N h(η) g(ξ) and the potential's scales.
KKI_ROWS = (ETA_C, XI_C, LOG10_N, W_KKI, ETA_L, XI_L)
#: The derived row of every KKI model, reported with its fits.
CONCENTRATION = derived_row("N", "m^-3", "N", "10**log10_N", "concentration of soft potentials")

# --- KKI couplings to strain (physics.md §5.1) --------------------------------------------------------------------

CHI_1 = ParameterSpec("chi_1", ELECTRONVOLT, 0.49, (1e-3, 100.0), r"\chi_1",
                      "coupling of type-1 TLS to longitudinal strain per unit y (D_1 = χ_1 δy; KKI eq. 5.6)",
                      log_scale=True)
CHI_2 = ParameterSpec("chi_2", ELECTRONVOLT, 0.49, (1e-3, 100.0), r"\chi_2",
                      "coupling of type-2 TLS to longitudinal strain per unit y (D_2 = χ_2 δy; KKI eq. 5.6)",
                      log_scale=True)
CHI_T_RATIO = ParameterSpec(
    "chi_t_ratio", DIMENSIONLESS, 1 / 1.64, (0.3, 1.0), r"\chi_t/\chi_l",
    "transverse/longitudinal coupling ratio (γ_l/γ_t = 1.44–1.84 for 18 glasses, physics.md §8)", vary=False)
CHI_ROWS = (CHI_1, CHI_2, CHI_T_RATIO)
#: The transverse couplings χ_jt = (χ_t/χ_l) χ_j, formed in eV and converted like the χ rows (kernel keywords
#: chi_1t, chi_2t), of the models whose coupling Σ_j χ_jα² X_j(E) enters on the transverse branch.
TRANSVERSE_CHI = (ScaledInput("chi_1t", CHI_1, CHI_T_RATIO.name), ScaledInput("chi_2t", CHI_2, CHI_T_RATIO.name))

# --- the standard tunnelling model (physics.md §0, §5.2–5.3) -------------------------------------------------------

P0 = ParameterSpec("P0", STM_DENSITY, 1.0, (1e-4, 1e4), r"\bar P",
                   "TLS density of states P̄ (STM convention, physics.md §0)", log_scale=True)
GAMMA_L = ParameterSpec("gamma_l", ELECTRONVOLT, 1.0, (0.01, 10.0), r"\gamma_l",
                        "longitudinal deformation potential (physics.md §0)")
GAMMA_T = ParameterSpec("gamma_t", ELECTRONVOLT, 0.65, (0.01, 10.0), r"\gamma_t",
                        "transverse deformation potential (physics.md §0)")
GAMMA_ROWS = (GAMMA_L, GAMMA_T)
D0_MIN = ParameterSpec("D0_min", KELVIN_ENERGY, 1e-8, (1e-14, 0.1), r"\Delta_{0,\min}",
                       "smallest tunnel splitting Δ0,min/k of the STM (a largest λ): τ stops at τ_min (E/Δ0,min)² "
                       "(physics.md §7.1)", log_scale=True)
C_TLS = ParameterSpec("C", STRENGTH_1E4, 3.0, (0.01, 100.0), r"C",
                      "tunnelling strength C = P̄γ²/(ρv²), taken equal for both branches (physics.md §0, §8)",
                      log_scale=True)

# --- other scattering mechanisms of κ (physics.md §5.5–5.6) --------------------------------------------------------

RAYLEIGH = ParameterSpec("log10_A_R", LOG10_RAYLEIGH, -43.0, (-50.0, -35.0), r"\log_{10} A_R",
                         "Rayleigh-type plateau scattering l⁻¹ = A_R ω⁴ (physics.md §5.6)", si="A_R")
W_SPM = ParameterSpec("W", KELVIN_ENERGY, 4.0, (0.3, 50.0), r"W",
                      "soft-potential energy W: vibration scattering (πCω/v)(√2/12)(ħω/W)³ (physics.md §5.5)")
BOUNDARY = ParameterSpec("L", METRE, 1e-2, (1e-6, 1.0), r"L", "boundary scattering length l⁻¹ = 1/L (physics.md §5.6)",
                         log_scale=True)

# --- sound velocity (physics.md §5.4) -----------------------------------------------------------------------------

DV0 = ParameterSpec("dv0", DIMENSIONLESS, 0.0, (-1.0, 1.0), r"(\delta v/v)_0", "T-independent reference offset")

# --- superconducting resonators: TLS in the dielectric and the superconductor (docs/physics.md §11) -----------------

FDELTA0 = ParameterSpec("Fdelta0", PER_MILLION, 1.0, (1e-3, 1e4), r"F\delta^0",
                        "filling factor × intrinsic TLS loss tangent F δ⁰ (1/Q_TLS at T → 0, n ≪ n_c)", log_scale=True)
N_C = ParameterSpec("n_c", PHOTONS, 1e3, (1e-3, 1e12), r"n_c", "saturation photon number of the TLS loss",
                    log_scale=True)
BETA = ParameterSpec("beta", DIMENSIONLESS, 0.5, (0.05, 1.5), r"\beta",
                     "power-saturation exponent, (1 + n/n_c)^-β: ½ for the STM ensemble (dipole orientations and Δ0/E "
                     "averaged)", vary=False)
ZETA = ParameterSpec("zeta", DIMENSIONLESS, 0.0, (-1.0, 4.0), r"\zeta",
                     "temperature exponent of the saturation photon number, n_c(T) = n_c (T/1 K)^ζ (longer T1, T2 "
                     "at low T saturate sooner); 0: n_c independent of T", vary=False)
LOSS_BG = ParameterSpec("loss_bg", PER_MILLION, 0.01, (0.0, 1e3), r"1/Q_0",
                        "constant background loss 1/Q_0 (radiation, vortices, other channels)")
DF0 = ParameterSpec("df0", PPM, 0.0, (-1e4, 1e4), r"(\delta f/f)_0",
                    "offset of δf/f: the data's reference frequency against the T → 0 resonance")
T_C = ParameterSpec("T_c", KELVIN_ENERGY, 9.2, (0.5, 30.0), r"T_c",
                    "critical temperature of the superconductor, Δ = 1.764 k T_c (default: Nb)", vary=False, si="kT_c")
ALPHA_K = ParameterSpec("alpha_k", DIMENSIONLESS, 0.0, (0.0, 1.0), r"\alpha_k",
                        "kinetic-inductance fraction of the quasiparticle (Mattis–Bardeen) terms; 0: none",
                        vary=False)
#: the superconductor's rows, shared by loss and shift models so that joint fits tie them
SUPERCONDUCTOR_ROWS = (T_C, ALPHA_K)
E_STAR = ParameterSpec("e_star", CHARGE_E, 0.1, (1e-3, 10.0), r"e^*",
                       "effective charge of the soft mode's dipole p = e* a0 y (default: δ⁰ ≈ 3e-4 of the reference "
                       "glass, the STM value of a 1 D dipole, docs/physics.md §11.2)", log_scale=True)
A0 = ParameterSpec("a0", ANGSTROM, 1.0, (0.1, 10.0), r"a_0", "length unit of the soft-mode coordinate (KKI: ≈ 1 Å)",
                   vary=False)
EPS_R = ParameterSpec("eps_r", DIMENSIONLESS, 3.8, (1.0, 100.0), r"\varepsilon_r",
                      "relative permittivity of the TLS host (default: a-SiO2)", vary=False)
FILLING = ParameterSpec("F", DIMENSIONLESS, 1.0, (1e-6, 1.0), r"F",
                        "filling factor: share of the electric energy in the TLS host", vary=False, log_scale=True)
#: the rows of the KKI dipole coupling
DIPOLE_ROWS = (E_STAR, A0, EPS_R, FILLING)

__all__ = ["A0", "ALPHA_K", "BETA", "BOUNDARY", "C3", "CHI_1", "CHI_2", "CHI_ROWS", "CHI_T_RATIO", "CONCENTRATION",
           "C_TLS", "D0_MIN", "DF0", "DIPOLE_ROWS", "DV0", "EPS_R", "ETA_C", "ETA_L", "E_STAR", "FDELTA0", "FILLING",
           "GAMMA_L", "GAMMA_ROWS", "GAMMA_T", "KKI_ROWS", "LOG10_N", "LOSS_BG", "MOLAR_MASS", "N_C", "P0",
           "RAYLEIGH", "RHO", "SUPERCONDUCTOR_ROWS", "TRANSVERSE_CHI", "T_C", "V_L", "V_T", "W_KKI", "W_SPM", "XI_C",
           "XI_L"]
