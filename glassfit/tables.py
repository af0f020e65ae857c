"""Precomputed, interpolated spectra of the soft potential, cached on disk (physics.md §2.3).

The exact solver (:mod:`glassfit.spectrum`) costs ≈ 0.5 ms a point; the
density-of-states and observable integrals need millions of points.  Every
quantity of h(α, β) is tabulated once on grids adapted to its physics and
interpolated with cubic splines:

* **Symmetric amplitude** J̃_sym(A_b), 2 ≤ A_b ≤ 40, as ln J̃_sym:
  :func:`glassfit.spectrum.symmetric_splitting` up to A_b = 18 (E1 − E0 below
  10, the cancellation-free Wronskian identity on 10–18), and above 18 the
  instanton series J_inst (1 − 71/(72 S0) − (6299/10368)/S0² + c3/S0³) with c3
  fitted to the exact values on 12–17 (physics.md §1.3; the S0⁻² coefficient
  is the two-loop term of Zinn-Justin's series; c3 = −1.37).  Against a solve
  with wider grid tails the table is within 3e-5 relative on 10–22 (the error
  of the Wronskian values up to 18, ≤ 2.2e-5 for the series at 19–22).
* **Tunnelling doublets** (double wells with A_b ≥ 3.2, seen from the barrier
  top: −A_b z² + b z³ + z⁴), on (A_b, δ) with δ = b A_b^(3/2)/√2 the
  linearised classical asymmetry in units of w (physics.md §1.2), 0 ≤ δ ≤ 2:
  the asymmetry renormalisation r = Δ/δ (→ r(A_b) as δ → 0), the amplitude
  ratio ρ = J̃/J̃_sym, δy_eff, the doublet centre and the next four levels.  J̃
  at A_b > 14 (J̃_sym(14) = 2.6e-9) is below what any double-precision
  diagonalisation resolves at finite δ: there ln ρ is extrapolated from
  A_b = 12 and 14 at fixed δ/ħω, linearly in 1/A_b.  At δ/ħω = 0.1, where
  ρ − 1 = 1.6 %, the extrapolation moves ρ by ≤ 0.1 % from its A_b = 14 value
  (0.04 % at A_b = 20, 0.10 % at 40); δ ≤ 2 keeps δ/ħω ≤ 0.19 beyond A_b = 14.
* **Vibrational states** (single wells and shallow double wells): the lowest
  ten levels, |x_01| and x_11 − x_00 on the origin-free form of the quartic,
  z⁴ + p z² + q z (y = z − β/4: p = α − 3β²/8, q = β³/8 − αβ/2), for
  −3.5 ≤ p ≤ 60 and |q| ≤ 200.  Every barrier there is below 3.1 w, so the
  levels are smooth; this covers all single wells with α ≤ 60.  (A grid in
  (α, β) or in the barrier frame is not smooth: it contains deep wells with
  a side pocket whose resonances make narrow avoided crossings.)

Type-1 and type-2 wells share the doublet table exactly through the barrier
frame (:class:`glassfit.potential.BarrierFrame`).  Points outside every
table are solved exactly on the fly (or returned as NaN on request).

The cache lives in ``$GLASSFIT_CACHE_DIR`` or the user cache directory, keyed
by a hash of the build settings and the package version; files are written
atomically with mode 0644 (a shared cache stays readable) and a SHA-256 of their
contents, which is checked on every load, so an altered file is rebuilt, as is a
corrupt one; one builder at a time holds a lock, the others wait and read its file.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import functools
import hashlib
import json
import os
import sys
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.interpolate import CubicSpline, NdBSpline, RectBivariateSpline

from glassfit import __version__
from glassfit.cache import cache_dir
from glassfit.potential import (
    barrier_frame,
    instanton_action,
    instanton_amplitude,
    oscillator_quantum,
)
from glassfit.spectrum import TwoLevel, solve, symmetric_splitting, two_level_from
from glassfit.validation import finite_array

#: Smallest barrier parameter A_b served by the doublet table (just above 2^(5/3) = 3.17, where the
#: zero-point level reaches the barrier top, KKI eq. 3.8; physics.md §1.5).
A_B_TABLE_MIN = 3.2
#: Largest A_b of the doublet and symmetric-amplitude tables; beyond it J̃_sym < 1e-49 (8.6e-50 at 40).
A_B_TABLE_MAX = 40.0

_FORMAT = 2                       # bump when the stored arrays change meaning (2: content hash)
_TWO_LOOP = -6299.0 / 10368.0     # S0⁻² coefficient of the instanton series (physics.md §1.3)
_WRONSKIAN_TO = 18.0              # J̃_sym from symmetric_splitting up to this A_b, the instanton series beyond
_N_DOUBLET_LEVELS = 6             # levels kept per doublet-table point


@dataclass(frozen=True)
class TableSettings:
    """Grids of the tables; any change gives a new cache key."""

    a_sym: tuple = (2.0, A_B_TABLE_MAX, 761)    # A_b grid of J̃_sym (lo, hi, points)
    a_doublet: tuple = (3.0, A_B_TABLE_MAX, 149)    # A_b grid of the doublet table
    delta_doublet: tuple = (0.0, 2.0, 41)    # δ grid of the doublet table
    a_exact_ratio: float = 14.0              # largest A_b at which J̃/J̃_sym is diagonalised
    tls_min_barrier: float = A_B_TABLE_MIN   # doublet table used for A_b ≥ this
    p_vib: tuple = ((-3.5, 10.0, 136), (10.5, 60.0, 100))   # p grid of the vibrational table (segments)
    q_vib: tuple = ((0.0, 20.0, 101), (25.0, 200.0, 36))     # |q| grid of the vibrational table
    n_vib_levels: int = 10

    def key(self) -> str:
        """sha256 of the settings, the package version and the table format."""
        blob = json.dumps([dataclasses.asdict(self), __version__, _FORMAT], sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()


def _grid(spec):
    """Points of a grid given as (lo, hi, n) or as a tuple of such segments."""
    if isinstance(spec[0], (tuple, list)):
        return np.concatenate([_grid(seg) for seg in spec])
    lo, hi, n = spec
    return np.linspace(lo, hi, int(n))


# ---------------------------------------------------------------------------
# Building
# ---------------------------------------------------------------------------

def _solve_arrays(alpha, beta, n_levels):
    spec = solve(alpha, beta, n_levels)
    return spec.energies, spec.positions


def _symmetric_amplitude_table(a):
    """ln J̃_sym on the grid ``a`` and the fitted S0⁻³ coefficient c3."""
    ln_j = np.empty_like(a)
    exact = a <= _WRONSKIAN_TO
    ln_j[exact] = np.log(symmetric_splitting(a[exact]))
    fit_a = a[(a >= 12.0) & (a <= 17.0)]
    fit_j = np.exp(ln_j[np.isin(a, fit_a)])
    s0 = instanton_action(fit_a)
    resid = fit_j / instanton_amplitude(fit_a, first_correction=False) - (1 - 71 / (72 * s0) + _TWO_LOOP / s0**2)
    c3 = float(np.sum(resid * s0**-3) / np.sum(s0**-6))       # least squares for resid = c3 / S0³
    high = a > _WRONSKIAN_TO
    ln_j[high] = np.log(_instanton_series(a[high], c3))
    return ln_j, c3


def _instanton_series(a, c3):
    s0 = instanton_action(a)
    return instanton_amplitude(a, first_correction=False) * (1 - 71 / (72 * s0) + _TWO_LOOP / s0**2 + c3 / s0**3)


def _doublet_table(a, delta, a_exact, sym_spline):
    """r, ln(J̃/J̃_sym), δy_eff, doublet centre and higher levels on (A_b, δ)."""
    A, D = np.meshgrid(a, delta, indexing="ij")
    D_solve = np.where(D == 0, 1e-4, D)                # r(A_b, 0) as the δ → 0 limit (error O(δ²))
    b = D_solve * np.sqrt(2.0) / A**1.5
    e, x = _solve_arrays(-A, b, _N_DOUBLET_LEVELS)
    tl = TwoLevel.from_matrix_elements(e[..., 0], e[..., 1], e[..., 2], np.abs(x[..., 0, 1]),
                                       x[..., 1, 1] - x[..., 0, 0])
    r = tl.Delta / D_solve
    j_sym = np.exp(sym_spline(A))
    ln_rho = np.where(D == 0, 0.0, np.log(tl.J / j_sym))
    # above a_exact: extrapolate ln ρ at fixed δ/ħω, linearly in 1/A_b, from rows a_exact - 2 and a_exact
    i_hi, i_lo = np.searchsorted(a, a_exact), np.searchsorted(a, a_exact - 2.0)
    for i in np.nonzero(a > a_exact)[0]:
        rows = [CubicSpline(delta, ln_rho[k])(delta * oscillator_quantum(a[k]) / oscillator_quantum(a[i]))
                for k in (i_lo, i_hi)]
        slope = (rows[1] - rows[0]) / (1 / a[i_hi] - 1 / a[i_lo])
        ln_rho[i] = rows[1] + slope * (1 / a[i] - 1 / a[i_hi])
    centre = 0.5 * (e[..., 0] + e[..., 1])
    higher = e[..., 2:] - centre[..., None]
    return {"r": r, "ln_rho": ln_rho, "dy_eff": tl.dy_eff, "centre": centre, "higher": higher}


def canonical_form(alpha, beta):
    """(p, q, c0) with αy² + βy³ + y⁴ = z⁴ + p z² + q z + c0 at y = z − β/4 (scaled units, physics.md §2.3).

    The origin-free form of the vibrational table; c0 [w] is the energy shift.
    """
    p = alpha - 3.0 * beta**2 / 8.0
    q = beta**3 / 8.0 - alpha * beta / 2.0
    c0 = beta**2 / 16.0 * (alpha - 3.0 * beta**2 / 16.0)
    return p, q, c0


def from_canonical(p, q):
    """(α, β, z0) of z⁴ + p z² + q z seen from its global minimum z0 (so V(z0) is subtracted).

    The inverse of :func:`canonical_form` up to the choice of origin: the vibrational table is solved at these
    (α, β), scaled units (physics.md §1.1).
    """
    companion = np.zeros((*p.shape, 3, 3))
    companion[..., 0, 1] = companion[..., 1, 2] = 1.0
    companion[..., 2, 1] = -p / 2.0                     # roots of z³ + (p/2) z + q/4 = 0
    companion[..., 2, 0] = -q / 4.0
    roots = np.linalg.eigvals(companion)
    real = np.where(np.abs(roots.imag) < 1e-9 * (1 + np.abs(roots.real)), roots.real, np.nan)
    vals = np.where(np.isnan(real), np.inf, real**4 + p[..., None] * real**2 + q[..., None] * real)
    z0 = np.take_along_axis(real, np.argmin(vals, axis=-1)[..., None], axis=-1)[..., 0]
    return 6.0 * z0**2 + p, 4.0 * z0, z0


def _vibrational_table(p, q, n_levels):
    """Levels (relative to the canonical form's zero), |x_01| and x_11 − x_00 on a (p, q) grid."""
    alpha, beta, z0 = from_canonical(p, q)
    energies, x = _solve_arrays(alpha, beta, n_levels)
    v0 = z0**4 + p * z0**2 + q * z0
    return {"levels": energies + v0[..., None], "x_ge": np.abs(x[..., 0, 1]),
            "dx": x[..., 1, 1] - x[..., 0, 0]}


def build_tables(settings: TableSettings | None = None) -> dict:
    """Compute every table (≈ 25–30 s on one core; 23 s measured on a quiet machine, 28–30 s in
    benchmarks/README.md); returns a dict of arrays, the settings key under ``"key"``."""
    st = settings or TableSettings()
    a_sym = _grid(st.a_sym)
    ln_j, c3 = _symmetric_amplitude_table(a_sym)
    sym_spline = CubicSpline(a_sym, ln_j)
    a_d, d_d = _grid(st.a_doublet), _grid(st.delta_doublet)
    for need in (st.a_exact_ratio, st.a_exact_ratio - 2.0):
        if not np.any(np.isclose(a_d, need)):
            raise ValueError(f"the doublet A_b grid must contain {need}")
    doublet = _doublet_table(a_d, d_d, st.a_exact_ratio, sym_spline)

    p, q = np.meshgrid(_grid(st.p_vib), _grid(st.q_vib), indexing="ij")
    vib = _vibrational_table(p, q, st.n_vib_levels)

    out = {"key": np.array(st.key()), "ln_j_sym": ln_j, "c3": np.array(c3)}
    out.update({f"doublet_{k}": val for k, val in doublet.items()})
    out.update({f"vib_{k}": val for k, val in vib.items()})
    return out


# ---------------------------------------------------------------------------
# Cache files
# ---------------------------------------------------------------------------

def content_hash(data: dict) -> str:
    """SHA-256 over every array of a table file but the hash itself (names, dtypes, shapes and bytes)."""
    h = hashlib.sha256()
    for name in sorted(k for k in data if k != "content_sha256"):
        arr = np.ascontiguousarray(data[name])
        h.update(f"{name}|{arr.dtype.str}|{arr.shape}|".encode())
        h.update(arr.tobytes())
    return h.hexdigest()


def _read(path: Path, key: str) -> dict | None:
    """Arrays stored at ``path`` if it is a complete, unaltered table file for ``key``, else None."""
    try:
        with open(path, "rb") as fh, np.load(fh, allow_pickle=False) as npz:
            data = {k: npz[k] for k in npz.files}
        if str(data.get("key")) != key:
            return None
        if str(data.get("content_sha256")) != content_hash(data):
            warnings.warn(f"ignoring spectrum table cache {path}: its contents do not match their SHA-256 "
                          "(altered or written by an older glassfit); rebuilding", stacklevel=3)
            return None
        return data
    except (FileNotFoundError, NotADirectoryError):
        return None
    except Exception as exc:  # a truncated, foreign or corrupt file is rebuilt, never fatal
        warnings.warn(f"ignoring unreadable spectrum table cache {path} ({exc}); rebuilding", stacklevel=3)
        return None


def _write(path: Path, data: dict) -> None:
    """Write atomically (a temporary file in the same directory, then os.replace), readable by every user of
    a shared cache (mode 0644), with the content hash that :func:`_read` checks."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez(fh, **data, content_sha256=np.array(content_hash(data)))
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    except OSError as exc:
        warnings.warn(f"could not cache spectrum tables in {path.parent} ({exc}); "
                      "they will be rebuilt next time", stacklevel=3)


def load_or_build(settings: TableSettings | None = None, directory: Path | None = None) -> SpectrumTables:
    """Tables for ``settings`` from the on-disk cache, building and caching them if absent or corrupt."""
    st = settings or TableSettings()
    key = st.key()
    path = Path(directory or cache_dir()) / f"spectrum-tables-{key[:20]}.npz"
    cached = _cached(path, key, st)
    if cached is not None:
        return cached
    with _build_lock(path):                       # one builder; the others wait and then read its file
        cached = _cached(path, key, st)
        if cached is not None:
            return cached
        print(f"glassfit: building the spectrum tables once (about 30 s; cached in {path.parent})", file=sys.stderr)
        data = build_tables(st)
        _write(path, data)
    return SpectrumTables(data, st)


def _cached(path: Path, key: str, st: TableSettings) -> SpectrumTables | None:
    data = _read(path, key)
    if data is None:
        return None
    try:
        return SpectrumTables(data, st)
    except (KeyError, ValueError, IndexError) as exc:   # complete zip, wrong contents
        warnings.warn(f"ignoring malformed spectrum table cache {path} ({exc!r}); rebuilding", stacklevel=3)
        return None


@contextlib.contextmanager
def _build_lock(path: Path):
    """An exclusive flock on ``<table>.lock`` beside the cache file (none if the directory is not writable)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path.with_suffix(".lock"), "a")        # closed by the with-block below
    except OSError:
        yield
        return
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


@functools.lru_cache(maxsize=1)
def default_tables() -> SpectrumTables:
    """The tables for the default settings, loaded once per process."""
    return load_or_build()


# ---------------------------------------------------------------------------
# Interpolation
# ---------------------------------------------------------------------------

DOUBLET, VIBRATIONAL, OUTSIDE = 1, 2, 0


class _Bicubic:
    """Interpolating bicubic spline of several quantities on one rectangular grid, evaluated in one pass."""

    def __init__(self, x, y, values):
        """``values``: (len(x), len(y), n_quantities)."""
        fits = [RectBivariateSpline(x, y, values[..., k], kx=3, ky=3) for k in range(values.shape[-1])]
        tx, ty = fits[0].tck[:2]
        coef = np.stack([f.tck[2].reshape(len(tx) - 4, len(ty) - 4) for f in fits], axis=-1)
        self._spline = NdBSpline((tx, ty), coef, 3)

    def __call__(self, x, y, nu=(0, 0)):
        """(n_points, n_quantities) at the points (x, y); ``nu`` orders of derivative in x and y."""
        return self._spline(np.stack([x, y], axis=-1), nu=nu)


class SpectrumTables:
    """Interpolators over the tables of :func:`build_tables` (units of w and ℓ).

    Use :func:`default_tables` rather than constructing one.
    """

    def __init__(self, data: dict, settings: TableSettings):
        self.settings = st = settings
        self.c3 = float(data["c3"])
        self._a_sym = _grid(st.a_sym)
        self._ln_j_sym = CubicSpline(self._a_sym, data["ln_j_sym"])
        a_d, d_d = _grid(st.a_doublet), _grid(st.delta_doublet)
        self._p_vib, self._q_vib = _grid(st.p_vib), _grid(st.q_vib)
        # ln J̃ = ln J̃_sym + ln ρ tabulated together: one spline evaluation gives J
        ln_j = self._ln_j_sym(a_d)[:, None] + data["doublet_ln_rho"]
        higher = data["doublet_higher"]
        self._doublet = _Bicubic(a_d, d_d, np.stack(
            [data["doublet_r"], ln_j, data["doublet_dy_eff"], data["doublet_centre"], higher[..., 0]], axis=-1))
        self._doublet_higher = _Bicubic(a_d, d_d, higher[..., 1:])
        vib = data["vib_levels"]
        self._vib_two_level = _Bicubic(self._p_vib, self._q_vib, np.concatenate(
            [vib[..., :3], data["vib_x_ge"][..., None], data["vib_dx"][..., None]], axis=-1))
        self._vib_levels = _Bicubic(self._p_vib, self._q_vib, vib)

    # -- one-dimensional tables ------------------------------------------------
    def symmetric_amplitude(self, A_b):
        """Exact J̃_sym(A_b) = J_sym/w of the symmetric well, 2 ≤ A_b ≤ 40 (physics.md §2.3)."""
        a = self._check_range("A_b", A_b, self._a_sym[0], self._a_sym[-1])
        return np.exp(self._ln_j_sym(a))

    def asymmetry_ratio(self, A_b):
        """r(A_b) = lim Δ/Δ_c for δ → 0 (physics.md §1.3), 3 ≤ A_b ≤ 40."""
        lo, hi, _ = self.settings.a_doublet
        a = self._check_range("A_b", A_b, lo, hi)
        a = np.asarray(a, float)
        return self._doublet(a.ravel(), np.zeros(a.size))[:, 0].reshape(a.shape)

    def amplitude_ratio(self, A_b, delta):
        """J̃(A_b, δ)/J̃_sym(A_b), δ the linearised classical asymmetry in units of w (physics.md §2.3)."""
        lo, hi, _ = self.settings.a_doublet
        a = self._check_range("A_b", A_b, lo, hi)
        d_hi = self.settings.delta_doublet[1]
        d = np.abs(self._check_range("delta", delta, -d_hi, d_hi))
        a, d = np.broadcast_arrays(a, d)
        ln_j = self._doublet(a.ravel(), d.ravel())[:, 1].reshape(a.shape)
        return np.exp(ln_j - self._ln_j_sym(a))

    def doublet(self, A_b, delta, d_delta: bool = False):
        """(r, ln J̃, δy_eff) of doublets in the barrier frame, flat arrays of A_b ∈ [3, 40], 0 ≤ δ ≤ 2 (§2.3).

        r = Δ/δ, J̃ = J/w, δ the linearised classical asymmetry (units of w and ℓ).  With ``d_delta``
        also (∂r/∂δ, ∂ln J̃/∂δ).  No range checks: the caller keeps to the table.
        """
        vals = self._doublet(A_b, delta)
        out = (vals[:, 0], vals[:, 1], vals[:, 2])
        if d_delta:
            der = self._doublet(A_b, delta, nu=(0, 1))
            out += (der[:, 0], der[:, 1])
        return out

    @staticmethod
    def _check_range(name, value, lo, hi):
        arr = finite_array(name, value)
        if np.any((arr < lo) | (arr > hi)):
            raise ValueError(f"{name} must lie in [{lo:g}, {hi:g}] for the tables")
        return arr

    # -- two-dimensional lookup --------------------------------------------------
    def region(self, alpha, beta):
        """Which table serves each scaled (α, β): 1 doublet, 2 vibrational, 0 none (solved exactly; physics.md §2.3)."""
        alpha, beta = np.broadcast_arrays(finite_array("alpha", alpha), finite_array("beta", beta))
        return self._locate(alpha, beta)[0]

    def _locate(self, alpha, beta):
        """Region of each point, its barrier frame, A_b and δ, and the canonical (p, q, c0)."""
        st = self.settings
        frame = barrier_frame(alpha, beta)
        a = np.nan_to_num(frame.a, nan=-1.0)
        delta = np.abs(np.nan_to_num(frame.b)) * np.clip(a, 0, None) ** 1.5 / np.sqrt(2.0)
        region = np.where((a >= st.tls_min_barrier) & (a <= st.a_doublet[1]) & (delta <= st.delta_doublet[1]),
                          DOUBLET, OUTSIDE)
        p, q, c0 = (np.full(alpha.shape, np.nan) for _ in range(3))
        rest = region != DOUBLET
        if rest.any():
            p[rest], q[rest], c0[rest] = canonical_form(alpha[rest], beta[rest])
            vib = rest & (p >= self._p_vib[0]) & (p <= self._p_vib[-1]) & (np.abs(q) <= self._q_vib[-1])
            region[vib] = VIBRATIONAL
        return region, frame, a, delta, (p, q, c0)

    def two_level(self, alpha, beta, gap_ratio: float = 10.0, outside: str = "solve") -> TwoLevel:
        """Interpolated :class:`~glassfit.spectrum.TwoLevel` of each (α, β) (units of w and ℓ; physics.md §2.2–2.3).

        ``outside`` = "solve" diagonalises points outside every table exactly;
        "nan" returns NaN for them.
        """
        if outside not in ("solve", "nan"):
            raise ValueError(f"outside must be 'solve' or 'nan', got {outside!r}")
        alpha, beta = np.broadcast_arrays(finite_array("alpha", alpha), finite_array("beta", beta))
        region, frame, a, delta, (p, q, c0) = self._locate(alpha, beta)
        fields = {}

        def put(mask, tl):
            if mask.all():              # the whole batch in one table: no scatter needed
                fields.update((f.name, np.reshape(getattr(tl, f.name), alpha.shape))
                              for f in dataclasses.fields(TwoLevel))
                return
            if not fields:
                fields.update((f.name, np.full(alpha.shape, np.nan)) for f in dataclasses.fields(TwoLevel))
                fields["valid"] = np.zeros(alpha.shape, dtype=bool)
            for name in fields:
                fields[name][mask] = getattr(tl, name)

        m = region == DOUBLET
        if m.any():
            # u, J, Δ straight from the doublet table: E1 − E0 would lose u below ε·|E|
            r, ln_j, dy_eff, centre, e2 = self._doublet(a[m], delta[m]).T
            j = np.exp(ln_j)
            asym = np.where(frame.b[m] < 0, -1.0, 1.0) * r * delta[m]
            u = np.hypot(asym, j)
            centre = centre + frame.v_top[m]
            e2 = e2 + centre
            put(m, TwoLevel(u=u, J=j, Delta=asym, x_ge=dy_eff * j / (2 * u), dx=dy_eff * asym / u, dy_eff=dy_eff,
                            E0=centre - u / 2, E1=centre + u / 2, E2=e2, valid=(e2 - centre - u / 2) >= gap_ratio * u))

        m = region == VIBRATIONAL
        if m.any():
            e0, e1, e2, x_ge, dx = self._vib_two_level(p[m], np.abs(q[m])).T
            dx = np.where(q[m] < 0, -1.0, 1.0) * dx
            put(m, TwoLevel.from_matrix_elements(e0 + c0[m], e1 + c0[m], e2 + c0[m], np.abs(x_ge), dx, gap_ratio))

        m = region == OUTSIDE
        if m.any() and outside == "solve":
            spec = solve(alpha[m], beta[m], n_levels=3)
            put(m, two_level_from(spec.energies, spec.positions, gap_ratio))
        if not fields:                  # nothing tabulated and outside="nan"
            put(np.zeros(alpha.shape, bool), TwoLevel(*(np.nan,) * 9, valid=False))
        return TwoLevel(**fields)

    def levels(self, alpha, beta, n_levels: int | None = None, outside: str = "solve"):
        """Lowest ``n_levels`` energies E_n(α, β) [w], shape (..., n_levels) (physics.md §2.1, §2.3).

        Tabulated: 10 levels in the vibrational table, 6 on doublets; more
        levels, or points outside the tables, are solved exactly (or NaN with
        ``outside="nan"``).
        """
        if outside not in ("solve", "nan"):
            raise ValueError(f"outside must be 'solve' or 'nan', got {outside!r}")
        alpha, beta = np.broadcast_arrays(finite_array("alpha", alpha), finite_array("beta", beta))
        n = self.settings.n_vib_levels if n_levels is None else int(n_levels)
        if n < 1:
            raise ValueError(f"n_levels must be >= 1, got {n_levels!r}")
        region, _, a, delta, (p, q, c0) = self._locate(alpha, beta)
        region = np.where((region == DOUBLET) & (n > _N_DOUBLET_LEVELS), OUTSIDE, region)
        region = np.where((region == VIBRATIONAL) & (n > self.settings.n_vib_levels), OUTSIDE, region)
        out = np.full((*alpha.shape, n), np.nan)
        m = region == DOUBLET
        if m.any():
            tl = self.two_level(alpha[m], beta[m])
            centre = 0.5 * (tl.E0 + tl.E1)
            rest = np.concatenate([(tl.E2 - centre)[:, None], self._doublet_higher(a[m], delta[m])], axis=1)
            out[m] = np.concatenate([tl.E0[:, None], tl.E1[:, None], centre[:, None] + rest], axis=1)[:, :n]
        m = region == VIBRATIONAL
        if m.any():
            out[m] = c0[m, None] + self._vib_levels(p[m], np.abs(q[m]))[:, :n]
        m = region == OUTSIDE
        if m.any() and outside == "solve":
            out[m] = solve(alpha[m], beta[m], n_levels=n).energies
        return out


__all__ = [
    "A_B_TABLE_MAX",
    "A_B_TABLE_MIN",
    "DOUBLET",
    "OUTSIDE",
    "VIBRATIONAL",
    "SpectrumTables",
    "TableSettings",
    "build_tables",
    "canonical_form",
    "default_tables",
    "from_canonical",
    "load_or_build",
]
