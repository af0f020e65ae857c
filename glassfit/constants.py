"""Physical constants and the one place where units are converted.

Everything inside glassfit is SI (J, m, kg, s, K).  Values from
:mod:`scipy.constants` (CODATA).  Conversions at the edges (K, eV, amu, Å)
are the functions below and nowhere else.
"""

from __future__ import annotations

import numpy as np
from scipy import constants as _c

#: Boltzmann constant k_B [J/K].
k_B: float = _c.k
#: Reduced Planck constant ħ [J s].
hbar: float = _c.hbar
#: Electron volt [J].
eV: float = _c.eV
#: Atomic mass unit [kg].
amu: float = _c.atomic_mass
#: Ångström [m].
angstrom: float = _c.angstrom
#: Avogadro constant [1/mol].
N_A: float = _c.Avogadro
#: Elementary charge [C].
e: float = _c.elementary_charge
#: Vacuum permittivity ε₀ [F/m].
epsilon_0: float = _c.epsilon_0


def kelvin_to_joule(T):
    """Thermal energy k_B T [J] of a temperature T [K]."""
    return np.asarray(T, dtype=float) * k_B


def joule_to_kelvin(E):
    """Temperature E / k_B [K] of an energy E [J]."""
    return np.asarray(E, dtype=float) / k_B


def ev_to_joule(E):
    """Energy in eV -> J."""
    return np.asarray(E, dtype=float) * eV


def joule_to_ev(E):
    """Energy in J -> eV."""
    return np.asarray(E, dtype=float) / eV


def amu_to_kg(m):
    """Mass in atomic mass units -> kg."""
    return np.asarray(m, dtype=float) * amu


def angstrom_to_metre(x):
    """Length in Å -> m."""
    return np.asarray(x, dtype=float) * angstrom


def kinetic_scale(mass, a0):
    """ε = ħ² / (2 m a0²) [J], the kinetic energy scale of the soft mode.

    physics.md §1.1 (KKI eq. 3.6 context). ``mass`` in kg, ``a0`` in m.
    For m = 1 amu and a0 = 1 Å, ε/k_B = 24.25 K.
    """
    mass = np.asarray(mass, dtype=float)
    a0 = np.asarray(a0, dtype=float)
    return hbar**2 / (2.0 * mass * a0**2)


def volumetric_to_specific(c, rho):
    """Heat capacity per volume [J m⁻³ K⁻¹] -> per mass [J g⁻¹ K⁻¹], for a density ρ [kg m⁻³]."""
    return np.asarray(c, dtype=float) / np.asarray(rho, dtype=float) / 1000.0


def specific_to_volumetric(c, rho):
    """Heat capacity per mass [J g⁻¹ K⁻¹] -> per volume [J m⁻³ K⁻¹], for a density ρ [kg m⁻³]."""
    return np.asarray(c, dtype=float) * np.asarray(rho, dtype=float) * 1000.0


def volumetric_to_molar(c, rho, molar_mass):
    """Heat capacity per volume [J m⁻³ K⁻¹] -> per mole [J mol⁻¹ K⁻¹], for ρ [kg m⁻³] and M [kg mol⁻¹]."""
    return np.asarray(c, dtype=float) * np.asarray(molar_mass, dtype=float) / np.asarray(rho, dtype=float)


class Unit(str):
    """The unit of a model parameter: its text (what reports and labels show) with its conversion to SI attached.

    ``Unit("eV", scale=eV)`` is a value in eV, SI = scale · value; ``Unit("log10(m^-3)", log10=True)`` is
    log10 of a value in m⁻³, SI = scale · 10**value.  A ``Unit`` is a ``str``, so tables and reports use it as text.
    """

    scale: float
    log10: bool

    def __new__(cls, text: str, scale: float = 1.0, log10: bool = False):
        unit = super().__new__(cls, text)
        unit.scale, unit.log10 = float(scale), bool(log10)
        return unit

    def __reduce__(self):
        return Unit, (str(self), self.scale, self.log10)

    def to_si(self, value):
        """``value`` in this unit -> SI (a float stays a float, an array an array)."""
        return self.scale * 10.0**value if self.log10 else (value * self.scale if self.scale != 1.0 else value)


#: Parameter units of the models' tables, with their SI conversions (the energy "K" is k_B T in J).
DIMENSIONLESS = Unit("1")
KELVIN_ENERGY = Unit("K", k_B)
ELECTRONVOLT = Unit("eV", eV)
STM_DENSITY = Unit("1e45 J^-1 m^-3", 1e45)
STRENGTH_1E4 = Unit("1e-4", 1e-4)
LOG10_PER_M3 = Unit("log10(m^-3)", log10=True)
LOG10_RAYLEIGH = Unit("log10(s^4 m^-1)", log10=True)
KG_PER_M3 = Unit("kg m^-3")
KG_PER_MOL = Unit("kg mol^-1")
M_PER_S = Unit("m s^-1")
METRE = Unit("m")
DEBYE_T3 = Unit("J m^-3 K^-4")
PER_MILLION = Unit("1e-6", 1e-6)
PPM = Unit("ppm", 1e-6)
PHOTONS = Unit("photons")
CHARGE_E = Unit("e", e)
ANGSTROM = Unit("Å", angstrom)

#: Energy attenuation l⁻¹ [1/m] -> dB/m (10/ln 10 = 4.343).
DB_PER_NEPER_ENERGY = 10.0 / np.log(10.0)


#: Units accepted at the edges (data files): unit -> (quantity, glassfit unit, factor), value_glassfit = factor · value.
#: Attenuation: "1/m" is the energy attenuation l⁻¹ (inverse phonon mean free path), the models' convention;
#: l⁻¹ = 2α with α the amplitude attenuation in Np/m, and 1 dB/m = ln(10)/20 Np/m of α = ln(10)/10 m⁻¹ of l⁻¹.
#: "1" is a dimensionless relative change δv/v or δf/f (relative_shift); a resonator's loss is 1/Q, given as 1/Q or
#: as the quality factor "Q" itself (a reciprocal unit: :data:`RECIPROCAL`); "photons" counts a mean photon number.
UNITS: dict[str, tuple[str, str, float]] = {
    "K": ("temperature", "K", 1.0),
    "mK": ("temperature", "K", 1e-3),
    "Hz": ("frequency", "Hz", 1.0),
    "kHz": ("frequency", "Hz", 1e3),
    "MHz": ("frequency", "Hz", 1e6),
    "GHz": ("frequency", "Hz", 1e9),
    "rad/s": ("frequency", "Hz", 1.0 / (2.0 * np.pi)),
    "s": ("time", "s", 1.0),
    "ms": ("time", "s", 1e-3),
    "us": ("time", "s", 1e-6),
    "min": ("time", "s", 60.0),
    "h": ("time", "s", 3600.0),
    "J/(g K)": ("heat_capacity", "J/(g K)", 1.0),
    "mJ/(g K)": ("heat_capacity", "J/(g K)", 1e-3),
    "uJ/(g K)": ("heat_capacity", "J/(g K)", 1e-6),
    "J/(kg K)": ("heat_capacity", "J/(g K)", 1e-3),
    "erg/(g K)": ("heat_capacity", "J/(g K)", 1e-7),
    "J/(mol K)": ("heat_capacity", "J/(mol K)", 1.0),
    "mJ/(mol K)": ("heat_capacity", "J/(mol K)", 1e-3),
    "J/(m3 K)": ("heat_capacity", "J/(m3 K)", 1.0),
    "J/(cm3 K)": ("heat_capacity", "J/(m3 K)", 1e6),
    "erg/(cm3 K)": ("heat_capacity", "J/(m3 K)", 0.1),
    "W/(m K)": ("conductivity", "W/(m K)", 1.0),
    "mW/(m K)": ("conductivity", "W/(m K)", 1e-3),
    "W/(cm K)": ("conductivity", "W/(m K)", 100.0),
    "mW/(cm K)": ("conductivity", "W/(m K)", 0.1),
    "uW/(cm K)": ("conductivity", "W/(m K)", 1e-4),
    "Q^-1": ("attenuation", "Q^-1", 1.0),
    "1/m": ("attenuation", "1/m", 1.0),
    "1/cm": ("attenuation", "1/m", 100.0),
    "Np/m": ("attenuation", "1/m", 2.0),
    "dB/m": ("attenuation", "1/m", np.log(10.0) / 10.0),
    "dB/cm": ("attenuation", "1/m", 10.0 * np.log(10.0)),
    "1": ("relative_shift", "1", 1.0),
    "ppm": ("relative_shift", "1", 1e-6),
    "1/Q": ("loss", "1/Q", 1.0),
    "Q": ("loss", "1/Q", 1.0),
    "photons": ("photon_number", "photons", 1.0),
    "W/g": ("heat_release", "W/g", 1.0),
    "nW/g": ("heat_release", "W/g", 1e-9),
    "pW/g": ("heat_release", "W/g", 1e-12),
    "W/kg": ("heat_release", "W/g", 1e-3),
    "nW/kg": ("heat_release", "W/g", 1e-12),
    "W/m3": ("heat_release", "W/m3", 1.0),
    "nW/cm3": ("heat_release", "W/m3", 1e-3),
}
#: Units whose values are the reciprocal of glassfit's (value_glassfit = 1/value): a quality factor Q -> loss 1/Q.
RECIPROCAL = frozenset({"Q"})


def _unit_key(unit: str) -> str:
    """Spelling-insensitive key: "W/(m K)", "W/m/K", "W/(m*K)" and "W / (m·K)" all give "W/mK"; µ and μ are u."""
    head, *rest = "".join(c for c in unit.replace("µ", "u").replace("μ", "u") if c not in " *·()^").split("/")
    return head + ("/" + "".join(rest) if rest else "")


_UNIT_KEYS = {_unit_key(name): name for name in UNITS}


def unit_info(unit: str) -> tuple[str, str, str, float]:
    """(canonical spelling, quantity, glassfit unit, factor) of ``unit``; ValueError if it is not in :data:`UNITS`."""
    name = _UNIT_KEYS.get(_unit_key(str(unit)))
    if name is None:
        raise ValueError(f"unknown unit {unit!r}; known units: {', '.join(UNITS)}")
    return (name, *UNITS[name])


def to_glassfit_unit(values, unit: str) -> tuple[np.ndarray, str]:
    """``values`` given in ``unit`` -> (values in glassfit's unit for that quantity, that unit)."""
    name, _, target, factor = unit_info(unit)
    values = np.asarray(values, dtype=float)
    return (1.0 / values if name in RECIPROCAL else values * factor), target


def error_to_glassfit_unit(errors, values, unit: str) -> np.ndarray:
    """Standard errors ``errors`` of ``values``, both in ``unit``, -> errors in glassfit's unit: scaled like the
    values, or σ/y² for a reciprocal unit (first-order propagation, σ(1/Q) = σ_Q/Q²)."""
    name, _, _, factor = unit_info(unit)
    errors = np.asarray(errors, dtype=float)
    return errors / np.asarray(values, dtype=float) ** 2 if name in RECIPROCAL else errors * factor
