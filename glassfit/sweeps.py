"""Microwave resonator sweeps: read one S21(f) sweep, reduce it to a resonance (f0, Q_i, Q_c with σ).

The fit is scraps' notch (hanger) model, ``scraps.fitsS21.hanger_resonator`` (F. W. Carter et al., IEEE Trans.
Appl. Supercond. 27, 2017; MIT licence), least squares by lmfit:
S21 = g(f) e^{iθ(f)} (1/Q_i + 2i(x + δx)) / (1/Q_l + 2ix), x = (f − f_r)/f_r, with a quadratic magnitude
baseline g(f), a linear phase θ(f) (cable delay) and δx = δf/f_r the impedance-mismatch asymmetry.  It is
the Khalil/Probst "diameter-corrected" notch model: Q_c here is 1/Re(1/Q̂_c) and φ = −atan(2 Q_c δx).
Chosen over resonator_tools 2.2.0 (flat magnitude baseline: on the NbN sweeps its f0 jumped > 20 ppm off
its temperature neighbours 34 times, all in RES-3, scraps' never; its σ are 2.0–2.3× the scatter of a
synthetic sweep, lmfit's within 10 %) and scikit-rf 2.2.0 (no σ, no mismatch angle: Q_i 32 % high on that
sweep; singular-matrix failures with a 30 ns cable delay).  scraps' own ``f0`` parameter is where the
numerator vanishes, f_r − δf; the f0 reported here is the pole f_r = f0 + δf (resonator_tools' ``fr``),
its σ from the covariance of the two.

Units: frequencies in Hz, S21 dimensionless (linear I + iQ), Q dimensionless.  scraps (which imports
matplotlib), and lmfit, are imported on the first fit only.
"""

from __future__ import annotations

import dataclasses
import re
import warnings
from pathlib import Path

import numpy as np

from glassfit.loading import DataError

#: frequency units a sweep header or the caller may state, in Hz
FREQUENCY_UNITS = {"Hz": 1.0, "kHz": 1e3, "MHz": 1e6, "GHz": 1e9}
#: plausible microwave frequencies [Hz]; anything outside means a wrong unit
PLAUSIBLE_HZ = (1e6, 1e12)
#: fewer points than this cannot constrain the 9 parameters of the model
MIN_POINTS = 50
#: a resonance less significant than this many noise σ (see :func:`fit_sweep`) is not one
MIN_SNR = 10.0
_UNIT_IN_HEADER = re.compile(r"[(\[]\s*([kMG]?Hz)\s*[)\]]", re.IGNORECASE)


class SweepError(DataError):
    """A sweep that cannot be reduced to a resonance (none there, or the fit failed); one readable line."""


@dataclasses.dataclass(frozen=True)
class Resonance:
    """One reduced sweep.  f0 = f_r [Hz] (the pole), Q's dimensionless, φ [rad] the mismatch angle; σ's are
    lmfit's 1σ (scaled by the reduced χ²); snr = the resonance's significance in noise σ (:func:`fit_sweep`);
    redchi = χ²/dof with the noise σ of :func:`noise_sigma`."""

    name: str
    f0: float
    sigma_f0: float
    Qi: float
    sigma_Qi: float
    Qc: float
    sigma_Qc: float
    Ql: float
    phi: float
    snr: float
    redchi: float


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def read_sweep(source: str | Path, frequency_unit: str = "header", *, content: str | bytes | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
    """(frequency [Hz], complex S21) of a sweep text: a header line, then rows ``f  I  Q`` (tab, comma or
    whitespace separated; ``#``/``!`` lines and blank lines skipped).  ``source`` is a path, or only a name
    when ``content`` (the text or bytes, e.g. from a zip) is given.  ``frequency_unit``: "header" trusts the
    header's "(GHz)"-style unit, else one of Hz, kHz, MHz, GHz.  Every problem is one DataError line."""
    name = str(source)
    if content is None:
        try:
            content = Path(source).read_bytes()
        except OSError as exc:
            raise DataError(f"{name}: cannot be read ({exc.strerror or exc})") from None
    text = content.decode("utf-8-sig", errors="replace") if isinstance(content, bytes) else content
    lines = [(n, line.strip()) for n, line in enumerate(text.splitlines(), 1)]
    lines = [(n, line) for n, line in lines if line and not line.startswith(("#", "!"))]
    header = None
    if lines and not re.match(r"[+-]?(\d|\.\d)", lines[0][1]):
        header = lines.pop(0)[1]
    rows = []
    for n, line in lines:
        cells = [c for c in re.split(r"[\t,;]|\s+", line) if c]
        if len(cells) != 3:
            raise DataError(f"{name}: line {n} has {len(cells)} cells, expected 3 (frequency, I, Q): {line[:60]!r}")
        try:
            values = [float(c) for c in cells]
        except ValueError:
            raise DataError(f"{name}: line {n} is not numeric: {line[:60]!r}") from None
        if not all(np.isfinite(values)):
            raise DataError(f"{name}: line {n} holds a NaN or infinite value: {line[:60]!r}")
        rows.append(values)
    if len(rows) < MIN_POINTS:
        raise DataError(f"{name}: {len(rows)} data rows, a sweep needs at least {MIN_POINTS}")
    data = np.array(rows)
    if frequency_unit == "header":
        match = _UNIT_IN_HEADER.search(header or "")
        if match is None:
            where = f"the header {header!r} states" if header else "there is no header line, so"
            raise DataError(f"{name}: {where} no frequency unit; pass frequency_unit='Hz', 'kHz', 'MHz' or 'GHz'")
        unit, said = next(u for u in FREQUENCY_UNITS if u.lower() == match[1].lower()), "the header says"
    elif frequency_unit in FREQUENCY_UNITS:
        unit, said = frequency_unit, "frequency_unit says"
    else:
        raise DataError(f"{name}: frequency_unit={frequency_unit!r} is none of 'header', {', '.join(FREQUENCY_UNITS)}")
    frequency = data[:, 0] * FREQUENCY_UNITS[unit]
    lo, hi = PLAUSIBLE_HZ
    if frequency.min() < lo or frequency.max() > hi:
        typical = float(np.median(data[:, 0]))
        fits = sorted((abs(np.log10(typical * s / 1e10)), u) for u, s in FREQUENCY_UNITS.items()
                      if lo <= data[:, 0].min() * s and data[:, 0].max() * s <= hi)      # nearest 10 GHz first
        hint = (f"the column is in {fits[0][1]}, pass frequency_unit='{fits[0][1]}'" if fits
                else "no unit puts them in the microwave range: check the frequency column")
        raise DataError(f"{name}: {said} {unit} but the values would be {typical * FREQUENCY_UNITS[unit]:.2g} Hz "
                        f"(outside {lo:.0e}–{hi:.0e} Hz): {hint}")
    steps = np.diff(frequency)
    if np.any(steps <= 0):
        n = lines[int(np.argmax(steps <= 0)) + 1][0]
        raise DataError(f"{name}: the frequencies do not increase at line {n}")
    return frequency, data[:, 1] + 1j * data[:, 2]


def noise_sigma(s21: np.ndarray) -> float:
    """Noise σ of one quadrature of S21, robust: MAD of the second differences (blind to smooth curves) / √6."""
    d2 = np.diff(s21, 2)
    both = np.concatenate([d2.real, d2.imag])
    return float(1.4826 * np.median(np.abs(both - np.median(both))) / np.sqrt(6.0))


def _scraps():
    """lmfit, scraps' Resonator and hanger model, imported on first use (both import matplotlib).  Importing
    scraps raises its own DeprecationWarning (its ``cmplxIQ`` alias module): silenced for that import only."""
    import lmfit

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="This module has been deprecated", category=DeprecationWarning)
        from scraps import Resonator
        from scraps.fitsS21 import hanger_resonator
    return lmfit, Resonator, hanger_resonator


def fit_sweep(frequency, s21, name: str = "sweep") -> Resonance:
    """The resonance of one notch-port sweep (frequency [Hz], complex S21), fitted by scraps' hanger model.

    SweepError (one line) if there is no resonance: its significance snr = √(χ²_baseline − χ²), χ² of the
    full fit and χ²_baseline of the same baseline refitted with no resonance, both with the noise σ of
    :func:`noise_sigma`, is below ``MIN_SNR`` = 10 (100 pure-noise sweeps gave at most 3.9); or if the fit
    failed: an exception inside scraps/lmfit, no convergence, no covariance, a non-finite or non-positive Q or
    σ, a Q at its bound, f0 outside the sweep, or a linewidth f0/Q_l wider than the sweep.
    """
    f = np.asarray(frequency, dtype=float)
    z = np.asarray(s21, dtype=complex)
    if f.ndim != 1 or f.shape != z.shape or f.size < MIN_POINTS:
        raise SweepError(f"{name}: frequency and S21 must be 1-D of one length ≥ {MIN_POINTS} (got {f.shape}, "
                         f"{z.shape})")
    if not (np.all(np.isfinite(f)) and np.all(np.isfinite(z))):
        raise SweepError(f"{name}: NaN or infinite values in the sweep")
    if np.any(np.diff(f) <= 0):
        raise SweepError(f"{name}: the frequencies do not increase")
    sigma = noise_sigma(z)
    if not sigma > 0:
        raise SweepError(f"{name}: S21 has no noise at all (a constant or synthetic-exact sweep?): no resonance "
                         "can be told from noise")
    lmfit, Resonator, hanger = _scraps()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")          # polyfit/lmfit warnings: the checks below judge the result
            res = Resonator(name, np.nan, np.nan, f, z.real, z.imag)
            res.load_params(hanger.hanger_params)
            res.do_lmfit(hanger.hanger_fit)
            result = res.lmfit_result["default"]["result"]
            model = hanger.hanger_fit(result.params, res, residual=False)
            flat = result.params.copy()                # the same baseline with no resonance, refitted
            for key in ("f0", "df", "qc", "qi"):
                flat[key].vary = False
            flat = lmfit.minimize(hanger.hanger_fit, flat, args=(res, True), kws={"only_baseline": True})
            baseline = hanger.hanger_fit(flat.params, res, residual=False, only_baseline=True)
    except Exception as exc:                         # any failure inside scraps/lmfit
        raise SweepError(f"{name}: the resonator fit failed inside scraps ({type(exc).__name__}: "
                         f"{_one_line(exc)[:120]})") from None
    data = np.concatenate([z.real, z.imag])
    chi2, chi2_flat = (float(np.sum(((m - data) / sigma) ** 2)) for m in (model, baseline))
    snr = float(np.sqrt(max(chi2_flat - chi2, 0.0)))
    if not snr >= MIN_SNR:
        raise SweepError(f"{name}: no resonance distinguishable from the noise (resonance significance "
                         f"{snr:.1f} σ < {MIN_SNR:g} σ; noise σ {sigma:.2g} per quadrature)")
    bad = f"{name}: failed reduction"
    if not result.success or not result.errorbars or result.covar is None:
        raise SweepError(f"{bad}: lmfit {'did not converge' if not result.success else 'gave no covariance'} "
                         f"({_one_line(result.message)[:80]})")
    p = result.params
    names = result.var_names
    cov = result.covar
    i, j = names.index("f0"), names.index("df")
    f0 = p["f0"].value + p["df"].value
    var_f0 = cov[i, i] + cov[j, j] + 2.0 * cov[i, j]
    qi, qc = p["qi"].value, p["qc"].value
    ql = 1.0 / (1.0 / qi + 1.0 / qc)
    values = [f0, var_f0, qi, qc, p["qi"].stderr, p["qc"].stderr]
    if not all(v is not None and np.isfinite(v) for v in values):
        raise SweepError(f"{bad}: non-finite parameter or error (f0 {f0:.6g}, Qi {qi:.4g}, Qc {qc:.4g})")
    if min(qi, qc, var_f0, p["qi"].stderr, p["qc"].stderr) <= 0:
        raise SweepError(f"{bad}: a Q or an error that is not positive (Qi {qi:.4g}, Qc {qc:.4g})")
    for key in ("qi", "qc"):
        if not p[key].min * 1.001 < p[key].value < p[key].max * 0.999:
            raise SweepError(f"{bad}: {key} = {p[key].value:.4g} at its bound [{p[key].min:g}, {p[key].max:g}]")
    if not f[0] < f0 < f[-1]:
        raise SweepError(f"{bad}: f0 = {f0:.9g} Hz outside the sweep {f[0]:.9g}–{f[-1]:.9g} Hz")
    if f0 / ql > f[-1] - f[0]:
        raise SweepError(f"{bad}: linewidth f0/Ql = {f0 / ql:.3g} Hz wider than the sweep ({f[-1] - f[0]:.3g} Hz)")
    redchi = chi2 / (data.size - len(names))
    dx = p["df"].value / f0
    return Resonance(name=name, f0=float(f0), sigma_f0=float(np.sqrt(var_f0)), Qi=float(qi),
                     sigma_Qi=float(p["qi"].stderr), Qc=float(qc), sigma_Qc=float(p["qc"].stderr), Ql=float(ql),
                     phi=float(-np.arctan(2.0 * qc * dx)), snr=snr, redchi=redchi)
