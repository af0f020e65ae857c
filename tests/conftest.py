import importlib.util
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

# derandomize: every run draws the same examples (no unseeded randomness in the suite)
settings.register_profile("glassfit", deadline=None, max_examples=60, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("glassfit")

BENCHMARKS = Path(__file__).parents[1] / "benchmarks"


@pytest.fixture(scope="session")
def tables():
    """The default spectrum tables (built once into the user cache, ≈ 30 s, then loaded)."""
    from glassfit.tables import default_tables

    return default_tables()


@pytest.fixture
def rng():
    return np.random.default_rng(20261124)


@pytest.fixture(scope="session")
def conductivity_benchmark():
    """benchmarks/conductivity.py as a module (its reference κ(T)), loaded from its file: sys.path is untouched."""
    spec = importlib.util.spec_from_file_location("glassfit_benchmark_conductivity", BENCHMARKS / "conductivity.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
