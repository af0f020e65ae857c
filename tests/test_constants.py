import numpy as np
import pytest

from glassfit import constants as c


def test_kinetic_scale_of_one_amu_and_one_angstrom_is_24_25_kelvin():
    # physics.md §1.1: ε = 24.25 K × (1 amu / m) for a0 = 1 Å
    eps = c.kinetic_scale(c.amu, c.angstrom)
    assert c.joule_to_kelvin(eps) == pytest.approx(24.2543, rel=1e-4)


@pytest.mark.parametrize(("forward", "back"), [
    (c.kelvin_to_joule, c.joule_to_kelvin),
    (c.ev_to_joule, c.joule_to_ev),
])
def test_unit_round_trips(forward, back):
    x = np.array([1e-3, 0.5, 7.0, 300.0])
    np.testing.assert_allclose(back(forward(x)), x, rtol=1e-15)


def test_named_conversions():
    assert c.kelvin_to_joule(1.0) == pytest.approx(1.380649e-23, rel=1e-12)
    assert c.ev_to_joule(1.0) == pytest.approx(1.602176634e-19, rel=1e-12)
    assert c.amu_to_kg(1.0) == pytest.approx(1.66053906e-27, rel=1e-8)
    assert c.angstrom_to_metre(2.0) == pytest.approx(2e-10, rel=1e-15)
