"""glassfit.sweeps: reading S21 sweeps and reducing them to resonances; the committed NbN resonance table."""

import csv
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from glassfit.loading import DataError
from glassfit.sweeps import Resonance, SweepError, fit_sweep, read_sweep

TABLE = Path(__file__).parents[1] / "glassfit" / "data" / "derived" / "nbn-resonances.csv"

# SYNTHETIC notch-port sweep (Probst et al. 2015, Khalil et al. 2012 form), not a measurement:
# S21 = a e^{iα} e^{−2πifτ} [1 − (Q_l/|Q_c|) e^{iφ} / (1 + 2iQ_l(f/f_r − 1))], 2001 points over 8 MHz, complex
# Gaussian noise of NOISE·a per quadrature.  True Q_c = |Q_c|/cos φ (diameter-corrected), 1/Q_i = 1/Q_l − 1/Q_c.
TRUE = {"fr": 8.175e9, "Ql": 4.0e4, "absQc": 5.0e4, "phi": 0.4, "a": 0.07, "alpha": 1.2, "tau": 30e-9}
TRUE_QC = TRUE["absQc"] / np.cos(TRUE["phi"])
TRUE_QI = 1.0 / (1.0 / TRUE["Ql"] - 1.0 / TRUE_QC)
NOISE = 1e-3
FREQ = np.linspace(TRUE["fr"] - 4e6, TRUE["fr"] + 4e6, 2001)


def synthetic_notch(f, fr, Ql, absQc, phi, a, alpha, tau):
    return a * np.exp(1j * alpha) * np.exp(-2j * np.pi * f * tau) * (
        1 - Ql / absQc * np.exp(1j * phi) / (1 + 2j * Ql * (f / fr - 1)))


def noisy(seed, **changes):
    rng = np.random.default_rng(seed)
    z = synthetic_notch(FREQ, **{**TRUE, **changes})
    return z + NOISE * TRUE["a"] * (rng.standard_normal(FREQ.size) + 1j * rng.standard_normal(FREQ.size))


def sweep_text(f_column, rows=None, header="Frequency (GHz)\tI\tQ"):
    rows = rows if rows is not None else [f"{f:.6f}\t{z.real:.6f}\t{z.imag:.6f}"
                                          for f, z in zip(f_column, noisy(1), strict=True)]
    return "\r\n".join([header, *rows]) + "\r\n"


def one_line(exc_info):
    message = str(exc_info.value)
    assert "\n" not in message and "Traceback" not in message
    return message


# --- the fit ------------------------------------------------------------------------------------------------

def test_synthetic_notch_recovered():
    """f0 within 4σ and 1e-8, Q_i within 4σ and 1 %, Q_c within 4σ and 0.5 %, φ within 0.01 rad."""
    r = fit_sweep(FREQ, noisy(20261124), name="synthetic")
    assert isinstance(r, Resonance)
    assert abs(r.f0 - TRUE["fr"]) < 4 * r.sigma_f0 and abs(r.f0 / TRUE["fr"] - 1) < 1e-8
    assert abs(r.Qi - TRUE_QI) < 4 * r.sigma_Qi and abs(r.Qi / TRUE_QI - 1) < 0.01
    assert abs(r.Qc - TRUE_QC) < 4 * r.sigma_Qc and abs(r.Qc / TRUE_QC - 1) < 0.005
    assert abs(r.Ql / TRUE["Ql"] - 1) < 0.005 and abs(r.phi - TRUE["phi"]) < 0.01
    assert 0.8 < r.redchi < 1.2 and r.snr > 1000


def test_synthetic_errors_match_the_scatter():
    """Over 12 seeds the pulls (fit − true)/σ of f0 and Q_i have an RMS within 0.5–1.6 (lmfit's σ are honest)."""
    fits = [fit_sweep(FREQ, noisy(seed)) for seed in range(12)]
    for pulls in ([(r.f0 - TRUE["fr"]) / r.sigma_f0 for r in fits], [(r.Qi - TRUE_QI) / r.sigma_Qi for r in fits]):
        assert 0.5 < np.sqrt(np.mean(np.square(pulls))) < 1.6


def test_no_resonance_is_a_sweep_error():
    rng = np.random.default_rng(7)
    flat = 0.05 * np.exp(-2j * np.pi * FREQ * 30e-9) + 7e-5 * (rng.standard_normal(FREQ.size)
                                                                 + 1j * rng.standard_normal(FREQ.size))
    with pytest.raises(SweepError, match="no resonance distinguishable from the noise") as exc:
        fit_sweep(FREQ, flat, name="flat")
    assert one_line(exc).startswith("flat: ")
    with pytest.raises(SweepError, match="no noise at all") as exc:
        fit_sweep(FREQ, np.full(FREQ.size, 0.05 + 0.01j), name="constant")
    one_line(exc)


@pytest.mark.parametrize("case", ["pure noise", "a step, no resonance", "resonance off the sweep",
                                  "wider than the sweep"])
def test_failed_reduction_is_a_sweep_error(case):
    rng = np.random.default_rng(3)
    white = 1e-3 * (rng.standard_normal(FREQ.size) + 1j * rng.standard_normal(FREQ.size))
    z = {"pure noise": lambda: white,
         "a step, no resonance": lambda: np.where(FREQ < TRUE["fr"], 0.05, 0.03) + 0.07 * white,
         "resonance off the sweep": lambda: noisy(3, fr=TRUE["fr"] + 4.2e6),
         "wider than the sweep": lambda: noisy(3, Ql=1000.0, absQc=1500.0)}[case]()
    with pytest.raises(SweepError) as exc:
        fit_sweep(FREQ, z, name=case)
    assert one_line(exc).startswith(f"{case}: ")


def test_an_exception_inside_the_library_is_a_sweep_error(monkeypatch):
    from glassfit import sweeps

    lmfit, resonator, hanger = sweeps._scraps()

    class Broken:
        hanger_fit = hanger.hanger_fit

        @staticmethod
        def hanger_params(res):
            raise IndexError("index 0 is out of bounds\nfor axis 0 with size 0")

    monkeypatch.setattr(sweeps, "_scraps", lambda: (lmfit, resonator, Broken))
    with pytest.raises(SweepError, match=r"failed inside scraps \(IndexError") as exc:
        fit_sweep(FREQ, noisy(1), name="broken")
    one_line(exc)


def test_bad_arrays():
    z = noisy(1)
    with pytest.raises(SweepError, match="NaN"):
        fit_sweep(FREQ, np.where(np.arange(FREQ.size) == 5, np.nan, z))
    with pytest.raises(SweepError, match="do not increase"):
        fit_sweep(FREQ[::-1], z)
    with pytest.raises(SweepError, match="1-D of one length"):
        fit_sweep(FREQ[:10], z[:10])


def test_import_does_not_load_matplotlib():
    code = "import sys, glassfit.sweeps; sys.exit('matplotlib' in sys.modules or 'scraps' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


# --- reading ------------------------------------------------------------------------------------------------

def test_read_sweep_units(tmp_path):
    path = tmp_path / "RES-9_-10_DBM_TEMP_0.100.S2P"
    path.write_text(sweep_text(FREQ), newline="")
    f, s21 = read_sweep(path, frequency_unit="Hz")
    assert f == pytest.approx(FREQ, rel=1e-12) and s21.dtype == complex and s21.size == 2001
    f_ghz, _ = read_sweep("in GHz", content=sweep_text(FREQ / 1e9).encode())       # header GHz, values GHz
    assert f_ghz == pytest.approx(FREQ, rel=1e-9)
    f_mhz, _ = read_sweep("x", frequency_unit="MHz", content=sweep_text(FREQ / 1e6, header="f I Q"))
    assert f_mhz == pytest.approx(FREQ, rel=1e-9)


def test_header_unit_contradicted_by_the_values():
    with pytest.raises(DataError) as exc:
        read_sweep("RES-1_-10_DBM_TEMP_0.113.S2P", content=sweep_text(FREQ))
    message = one_line(exc)
    assert message.startswith("RES-1_-10_DBM_TEMP_0.113.S2P: the header says GHz but the values would be 8.2e+18 Hz")
    assert message.endswith("the column is in Hz, pass frequency_unit='Hz'")
    with pytest.raises(DataError, match="states no frequency unit"):
        read_sweep("x", content=sweep_text(FREQ, header="f I Q"))
    with pytest.raises(DataError, match="frequency_unit='furlong'"):
        read_sweep("x", frequency_unit="furlong", content=sweep_text(FREQ))


@pytest.mark.parametrize(("row", "match"), [("8170884002.0\tnan\t0.06", r"line 3 holds a NaN"),
                                            ("8170884002.0\t-0.02\tabc", r"line 3 is not numeric"),
                                            ("8170884002.0\t-0.02", r"line 3 has 2 cells, expected 3")])
def test_bad_rows_name_file_and_line(row, match):
    rows = sweep_text(FREQ).splitlines()[1:]
    rows[1] = row
    with pytest.raises(DataError, match=f"^sweep.S2P: {match}") as exc:
        read_sweep("sweep.S2P", frequency_unit="Hz", content=sweep_text(None, rows=rows))
    one_line(exc)


def test_not_increasing_and_too_short():
    rows = sweep_text(FREQ).splitlines()[1:]
    rows[10], rows[11] = rows[11], rows[10]
    with pytest.raises(DataError, match="do not increase at line 13"):
        read_sweep("s", frequency_unit="Hz", content=sweep_text(None, rows=rows))
    with pytest.raises(DataError, match="10 data rows, a sweep needs at least 50"):
        read_sweep("s", frequency_unit="Hz", content=sweep_text(None, rows=rows[:10]))
    with pytest.raises(DataError, match="cannot be read"):
        read_sweep(Path("/nonexistent/sweep.S2P"))


# --- the committed table and the real sweeps ------------------------------------------------------------------

def committed_rows():
    lines = [line for line in TABLE.read_text(encoding="utf-8").splitlines() if not line.startswith("#")]
    return list(csv.DictReader(lines))


def test_committed_table_is_complete_and_sorted():
    text = TABLE.read_text(encoding="utf-8")
    assert text.startswith("# DERIVED DATA") and "zip sha256: 901a7a10aaf5bb73a38151e7e0d80fab7cc2c3c2" in text
    rows = committed_rows()
    numbers = [v for r in rows for k, v in r.items() if k not in ("series", "resonator", "flag")]
    assert all(v == "" or np.isfinite(float(v)) for v in numbers) and "nan" not in {v.lower() for v in numbers}
    assert len(rows) == 1020 and {r["flag"] for r in rows} <= {"", "noisy", "failed"}
    keys = [(int(r["resonator"][4:]), -int(r["power_dBm"]), float(r["T_K"])) for r in rows]
    assert keys == sorted(keys)
    assert all(r["series"] == f"{r['resonator']}@{r['power_dBm']}dBm" for r in rows)


def example_zip():
    """ExampleData.zip through the catalog (``fetch_raw``, sha256 checked) when $GLASSFIT_DATA_DIR holds it, else
    None (no download in the tests)."""
    from glassfit.datasets import DataError, fetch_raw

    if not os.environ.get("GLASSFIT_DATA_DIR"):
        return None
    try:
        return fetch_raw("nbn-scraps-sweeps")
    except DataError:
        return None


@pytest.mark.skipif(example_zip() is None, reason="ExampleData.zip not under $GLASSFIT_DATA_DIR/resonators/"
                    "faustincarter-scraps/ (CI sets it to ../shared/datasets)")
def test_real_sweeps_reproduce_the_committed_rows():
    """RES-1@-10dBm at 0.100 K (f_ref) and 0.113 K (scraps' Example 1) and RES-3@-50dBm at 0.141 K (noisy)."""
    table = {(r["series"], r["T_K"]): r for r in committed_rows()}
    fits = {}
    with zipfile.ZipFile(example_zip()) as z:
        for res, power, temp in [("RES-1", -10, "0.100"), ("RES-1", -10, "0.113"), ("RES-3", -50, "0.141")]:
            name = f"ExampleData/{res}_{power}_DBM_TEMP_{temp}.S2P"
            f, s21 = read_sweep(name, frequency_unit="Hz", content=z.read(name))
            fits[(f"{res}@{power}dBm", temp)] = r = fit_sweep(f, s21, name=name)
            row = table[(f"{res}@{power}dBm", temp)]
            for column, value in [("f0_Hz", r.f0), ("sigma_f0_Hz", r.sigma_f0), ("Qi", r.Qi),
                                  ("sigma_Qi", r.sigma_Qi), ("Qc", r.Qc), ("sigma_Qc", r.sigma_Qc)]:
                # the fits round differently on other CPUs (OpenBLAS kernels): up to 6e-7 between two boxes
                assert float(row[column]) == pytest.approx(value, rel=1e-5), column
    r, ref = fits[("RES-1@-10dBm", "0.113")], fits[("RES-1@-10dBm", "0.100")]
    assert float(table[("RES-1@-10dBm", "0.113")]["df_f"]) == pytest.approx(r.f0 / ref.f0 - 1, rel=1e-9)
    assert table[("RES-3@-50dBm", "0.141")]["flag"] == "noisy"
    # scraps' Example 1 (docs/Example1_LoadAndPlot.rst) on this sweep: f0 = 8174865670.34 Hz (scraps' f0, the
    # numerator zero) and, from its emcee chain, df ≈ 88694 Hz, qi ≈ 284032, qc ≈ 48826
    assert r.f0 == pytest.approx(8174865670.34 + 88694.0, abs=5.0)
    assert r.Qi == pytest.approx(284032, rel=1e-4) and r.Qc == pytest.approx(48826, rel=1e-4)
