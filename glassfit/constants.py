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
