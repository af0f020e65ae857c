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
