import numpy as np
import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("glassfit", deadline=None, max_examples=60,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("glassfit")


@pytest.fixture(scope="session")
def tables():
    """The default spectrum tables (built once into the user cache, ≈ 30 s, then loaded)."""
    from glassfit.tables import default_tables

    return default_tables()


@pytest.fixture
def rng():
    return np.random.default_rng(20261124)
