import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassfit
import glassfit.tables as tables_mod
from glassfit.potential import TYPE_1, classify, instanton_action, instanton_amplitude
from glassfit.spectrum import solve, symmetric_splitting, two_level
from glassfit.tables import DOUBLET, OUTSIDE, VIBRATIONAL, TableSettings, canonical_form, load_or_build

TINY = TableSettings(a_sym=(2.0, 20.0, 37), a_doublet=(3.0, 16.0, 27), delta_doublet=(0.0, 2.0, 5),
                     p_vib=((-3.5, 10.0, 10),), q_vib=((0.0, 20.0, 5),), n_vib_levels=4)


def doublet_points(a, delta, type1):
    """(α, β) of doublets with barrier parameter a and linearised asymmetry δ, as type 2 or shifted to type 1."""
    b = delta * np.sqrt(2.0) / a**1.5
    alpha, beta = -a, b
    # origin moved to the left minimum of −a z² + b z³ + z⁴: the same potential written as a type-1 well
    z = (-3 * b - np.sqrt(9 * b**2 + 32 * a)) / 8
    alpha1, beta1 = -a + 3 * b * z + 6 * z**2, b + 4 * z
    return np.where(type1, alpha1, alpha), np.where(type1, beta1, beta)


def test_shifted_points_are_type1_with_the_same_spectrum():
    a, d = np.array([5.0, 9.0]), np.array([0.3, 1e-3])
    alpha, beta = doublet_points(a, d, np.array([True, True]))
    assert np.all(classify(alpha, beta) == TYPE_1)
    np.testing.assert_allclose(two_level(alpha, beta).u, two_level(-a, d * np.sqrt(2) / a**1.5).u, rtol=1e-9)


def test_interpolation_matches_direct_solves(tables, rng):
    # the tables' accuracy target: ≥ 200 random points with u/w in [1e-8, 0.5]: u and J within 1e-4 relative
    n = 1500
    a = rng.uniform(3.2, 13.6, n)
    delta = 10 ** rng.uniform(-9, np.log10(0.55), n) * rng.choice([-1, 1], n)
    alpha, beta = doublet_points(a, delta, rng.random(n) < 0.5)
    exact = two_level(alpha, beta)
    keep = (exact.u >= 1e-8) & (exact.u <= 0.5)
    assert keep.sum() >= 200
    assert np.all(tables.region(alpha[keep], beta[keep]) == DOUBLET)
    interp = tables.two_level(alpha[keep], beta[keep])
    ex = {k: getattr(exact, k)[keep] for k in ("u", "J", "Delta", "x_ge")}
    assert np.max(np.abs(interp.u / ex["u"] - 1)) <= 1e-4
    # J is compared where the direct diagonalisation itself resolves it (J ≥ 1e-9 w)
    resolved = ex["J"] >= 1e-9
    assert resolved.sum() >= 200
    assert np.max(np.abs(interp.J[resolved] / ex["J"][resolved] - 1)) <= 1e-4
    assert np.max(np.abs(interp.x_ge[resolved] / ex["x_ge"][resolved] - 1)) <= 1e-4
    big = (np.abs(ex["Delta"]) > 1e-3 * ex["u"]) & (np.abs(ex["Delta"]) > 1e-7)   # resolved by the direct solve
    assert np.max(np.abs(interp.Delta[big] / ex["Delta"][big] - 1)) <= 1e-4


def test_vibrational_levels_match_direct_solves(tables, rng):
    alpha = rng.uniform(-4, 60, 800)
    beta = rng.uniform(-12, 12, 800)
    m = tables.region(alpha, beta) == VIBRATIONAL
    assert m.sum() > 300
    exact = solve(alpha[m], beta[m], 10).energies
    interp = tables.levels(alpha[m], beta[m])
    assert np.max(np.abs(interp - exact) / np.maximum(np.abs(exact), 1.0)) <= 2e-4
    tl_exact, tl = two_level(alpha[m], beta[m]), tables.two_level(alpha[m], beta[m])
    assert np.max(np.abs(tl.x_ge / tl_exact.x_ge - 1)) <= 1e-3
    np.testing.assert_allclose(tl.dx, tl_exact.dx, atol=2e-3)   # x_11 − x_00 varies fastest near p ≈ −3


def test_doublet_levels_above_the_pair(tables):
    alpha, beta = doublet_points(np.array([4.0, 7.5, 20.0]), np.array([0.0, 0.8, -1.5]), np.array([False, True, False]))
    np.testing.assert_allclose(tables.levels(alpha, beta, 6), solve(alpha, beta, 6).energies, rtol=2e-5, atol=2e-5)


def test_symmetric_amplitude_table(tables, rng):
    a = rng.uniform(2.0, 18.0, 60)
    np.testing.assert_allclose(tables.symmetric_amplitude(a), symmetric_splitting(a), rtol=5e-6)
    deep = np.array([20.0, 30.0, 40.0])
    s0 = instanton_action(deep)
    series = instanton_amplitude(deep, first_correction=False) * (1 - 71 / (72 * s0) - 6299 / 10368 / s0**2)
    np.testing.assert_allclose(tables.symmetric_amplitude(deep), series, rtol=1e-4)
    assert abs(tables.c3) < 5.0          # the fitted S0⁻³ coefficient is of order one


def test_asymmetry_ratio_range_and_values(tables):
    r = tables.asymmetry_ratio(np.linspace(8, 10, 11))
    assert np.all((r > 0.94) & (r < 0.97))
    np.testing.assert_allclose(tables.asymmetry_ratio([6.0, 8.0, 10.0]), [0.9124, 0.9477, 0.9639], atol=1e-4)
    assert np.all(np.diff(tables.asymmetry_ratio(np.linspace(3.2, 40, 50))) > 0)   # r → 1 from below


def test_amplitude_ratio_against_direct(tables):
    a = np.array([6.0, 8.0, 12.0])
    delta = np.array([0.4, 1.0, 1.9])
    direct = two_level(-a, delta * np.sqrt(2) / a**1.5).J / symmetric_splitting(a)
    np.testing.assert_allclose(tables.amplitude_ratio(a, delta), direct, rtol=1e-5)
    np.testing.assert_allclose(tables.amplitude_ratio(a, -delta), direct, rtol=1e-5)   # even in δ


def test_amplitude_ratio_extrapolation_is_smooth(tables):
    # beyond A_b = 14 the ratio is extrapolated at fixed δ/ħω: it must stay close to its A_b = 14 value
    hw = lambda a: 2 * np.sqrt(2 * a)                     # noqa: E731
    q = 0.1
    ratios = [float(tables.amplitude_ratio(a, q * hw(a))) for a in (12.0, 14.0, 16.0, 20.0, 30.0)]
    assert np.all(np.diff(ratios) > 0)
    assert ratios[-1] / ratios[1] - 1 < 2e-3


def test_outside_points_are_solved_or_nan(tables):
    alpha, beta = np.array([50.0, -30.0]), np.array([40.0, 3.0])      # far outside every table
    assert np.all(tables.region(alpha, beta) == OUTSIDE)
    exact = two_level(alpha, beta)
    np.testing.assert_allclose(tables.two_level(alpha, beta).u, exact.u, rtol=1e-12)
    assert np.all(np.isnan(tables.two_level(alpha, beta, outside="nan").u))
    with pytest.raises(ValueError, match="outside"):
        tables.two_level(alpha, beta, outside="guess")


def test_range_errors(tables):
    with pytest.raises(ValueError, match=r"A_b must lie in \[2, 40\]"):
        tables.symmetric_amplitude(50.0)
    with pytest.raises(ValueError, match="delta must lie"):
        tables.amplitude_ratio(8.0, 3.0)
    with pytest.raises(ValueError, match="alpha must be finite"):
        tables.two_level(np.inf, 0.0)


def test_canonical_form_is_the_same_polynomial(rng):
    alpha, beta = rng.uniform(-10, 40, 50), rng.uniform(-8, 8, 50)
    p, q, c0 = canonical_form(alpha, beta)
    y = rng.uniform(-3, 3, 50)
    z = y + beta / 4
    np.testing.assert_allclose(alpha * y**2 + beta * y**3 + y**4, z**4 + p * z**2 + q * z + c0, rtol=1e-10, atol=1e-9)


# -- properties over the whole tabulated domain --------------------------------

@given(a=st.floats(3.25, 39.9), delta=st.floats(-1.99, 1.99), type1=st.booleans())
def test_doublet_quantities_finite_and_ordered(tables, a, delta, type1):
    alpha, beta = doublet_points(np.array(a), np.array(delta), np.array(type1))
    tl = tables.two_level(alpha, beta)
    assert int(tables.region(alpha, beta)) == DOUBLET
    _check_two_level(tl)
    levels = tables.levels(alpha, beta, 6)
    assert np.all(np.isfinite(levels)) and np.all(np.diff(levels) >= 0)


@given(p=st.floats(-3.49, 59.9), q=st.floats(-199.9, 199.9))
def test_vibrational_quantities_finite_and_ordered(tables, p, q):
    alpha, beta, _ = tables_mod.from_canonical(np.array([p]), np.array([q]))
    assert int(tables.region(alpha, beta)[0]) != OUTSIDE
    _check_two_level(tables.two_level(alpha, beta))
    levels = tables.levels(alpha, beta, 6)
    assert np.all(np.isfinite(levels)) and np.all(np.diff(levels) > 0)


def _check_two_level(tl):
    for name in ("u", "J", "Delta", "x_ge", "dx", "dy_eff", "E0", "E1", "E2"):
        assert np.all(np.isfinite(getattr(tl, name))), name
    assert np.all(tl.u > 0) and np.all(tl.J > 0) and np.all(tl.x_ge > 0)
    assert np.all(tl.J <= tl.u * (1 + 1e-12))
    assert np.all(tl.E0 <= tl.E1) and np.all(tl.E1 < tl.E2)    # E1 − E0 may be below ε·|E|


# -- the on-disk cache ----------------------------------------------------------

def test_cache_round_trip(tmp_path, monkeypatch):
    first = load_or_build(TINY, tmp_path)
    files = list(tmp_path.glob("spectrum-tables-*.npz"))
    assert len(files) == 1
    monkeypatch.setattr(tables_mod, "build_tables", lambda s: pytest.fail("rebuilt a valid cache"))
    second = load_or_build(TINY, tmp_path)
    np.testing.assert_array_equal(second.symmetric_amplitude([4.0, 9.0]), first.symmetric_amplitude([4.0, 9.0]))


@pytest.mark.parametrize("damage", ["garbage", "truncate", "foreign"])
def test_corrupt_cache_is_rebuilt(tmp_path, damage):
    load_or_build(TINY, tmp_path)
    (path,) = tmp_path.glob("spectrum-tables-*.npz")
    if damage == "garbage":
        path.write_bytes(b"not a table")
    elif damage == "truncate":
        path.write_bytes(path.read_bytes()[:200])
    else:
        np.savez(path, key=np.array(TINY.key()), something_else=np.zeros(3))
    with pytest.warns(UserWarning, match="spectrum table cache"):
        rebuilt = load_or_build(TINY, tmp_path)
    assert rebuilt.symmetric_amplitude(6.0) == pytest.approx(symmetric_splitting(6.0), rel=1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_or_build(TINY, tmp_path)            # the rebuilt file is valid again


def test_cache_key_depends_on_settings_and_version(monkeypatch):
    assert TINY.key() != TableSettings().key()
    key = TINY.key()
    monkeypatch.setattr(tables_mod, "__version__", glassfit.__version__ + ".post1")
    assert TINY.key() != key


def test_unwritable_cache_still_gives_tables(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache directory should be")
    with pytest.warns(UserWarning, match="could not cache"):
        tab = load_or_build(TINY, blocker / "sub")
    assert tab.symmetric_amplitude(5.0) > 0


def test_concurrent_builders_are_safe(tmp_path):
    code = ("import sys; from pathlib import Path; import test_tables as t; import glassfit.tables as g; "
            "tab = g.load_or_build(t.TINY, Path(sys.argv[1])); print(tab.symmetric_amplitude(5.0))")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(Path(__file__).parent), *sys.path]))
    procs = [subprocess.Popen([sys.executable, "-W", "error", "-c", code, str(tmp_path)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(3)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1] for o in outs]
    assert len({o[0] for o in outs}) == 1
    assert sum("building the spectrum tables" in o[1] for o in outs) == 1     # the lock: one builder
    assert len(list(tmp_path.glob("*.npz"))) == 1 and not list(tmp_path.glob("*.tmp"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_or_build(TINY, tmp_path)


def test_altered_cache_contents_are_detected_and_the_file_is_shared(tmp_path):
    load_or_build(TINY, tmp_path)
    (path,) = tmp_path.glob("spectrum-tables-*.npz")
    assert path.stat().st_mode & 0o777 == 0o644                   # readable by the other users of a shared cache
    with np.load(path) as npz:
        data = {k: npz[k] for k in npz.files}
    data["ln_j_sym"] = data["ln_j_sym"] * 1.5                      # a valid archive with one table scaled
    np.savez(path, **data)
    with pytest.warns(UserWarning, match="do not match their SHA-256"):
        rebuilt = load_or_build(TINY, tmp_path)
    assert rebuilt.symmetric_amplitude(6.0) == pytest.approx(symmetric_splitting(6.0), rel=1e-6)


def test_a_build_says_so_in_one_line(tmp_path, capsys):
    load_or_build(TINY, tmp_path)
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("glassfit: building the spectrum tables once") and str(tmp_path) in line
    load_or_build(TINY, tmp_path)
    assert capsys.readouterr().err == ""
