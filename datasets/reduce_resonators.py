"""Reduce the NbN resonator S21 sweeps of FaustinCarter/scraps to a table of resonances (deterministic).

``python datasets/reduce_resonators.py [--zip PATH] [--out PATH] [--jobs N]`` reads every
``ExampleData/RES-n_P_DBM_TEMP_T.S2P`` of the upstream ``ExampleData.zip`` (default: the catalogued file,
``glassfit.datasets.fetch_raw("nbn-scraps-sweeps")``; its sha256 is checked), fits each sweep with
:func:`glassfit.sweeps.fit_sweep` (scraps' hanger model) and writes ``glassfit/data/derived/nbn-resonances.csv``:
``#`` provenance lines, then one row per sweep sorted by (resonator, power descending, T).  A sweep that cannot
be reduced keeps its row, numeric cells empty, flag ``failed``, and its reason in the comments.  Series whose
δf/f scatters more than ``NOISY_PPM`` about its temperature neighbours are flagged ``noisy``.  No date is
written: the same zip and library versions give the same file byte for byte.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import hashlib
import os
import re
import sys
import time
import zipfile
from importlib.metadata import version
from pathlib import Path

import numpy as np

from glassfit import constants
from glassfit.datasets import fetch_raw, raw_catalog
from glassfit.loading import DataError
from glassfit.sweeps import MIN_SNR, fit_sweep, read_sweep

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "glassfit" / "data" / "derived" / "nbn-resonances.csv"
#: the raw file's catalog entry: its URL at the pinned commit, sha256 and citation
RAW = raw_catalog()["nbn-scraps-sweeps"]
NAME = re.compile(r"ExampleData/(RES-\d+)_(-?\d+)_DBM_TEMP_(\d+\.\d+)\.S2P")
#: a series is noisy if the robust scatter (1.4826 MAD) of δf/f about the line through each point's two
#: temperature neighbours exceeds this; the other 19 series scatter by 0.3–1.2 ppm (mostly thermometry)
NOISY_PPM = 2.0
COLUMNS = ["series", "resonator", "power_dBm", "T_K", "f0_Hz", "sigma_f0_Hz", "Qi", "sigma_Qi", "Qc", "sigma_Qc",
           "df_f", "sigma_df_f", "n_0dB", "flag"]


def reduce_one(zip_path: str, name: str) -> tuple[str, dict | str]:
    """(name, fitted values) or (name, the one-line reason the sweep could not be reduced)."""
    with zipfile.ZipFile(zip_path) as z:
        content = z.read(name)
    try:
        f, s21 = read_sweep(name, frequency_unit="Hz", content=content)   # the header says GHz; the column is Hz
        r = fit_sweep(f, s21, name=name)
    except DataError as exc:
        return name, str(exc)
    return name, {"f0": r.f0, "sigma_f0": r.sigma_f0, "Qi": r.Qi, "sigma_Qi": r.sigma_Qi, "Qc": r.Qc,
                  "sigma_Qc": r.sigma_Qc}


def neighbour_scatter(T: np.ndarray, y: np.ndarray) -> float:
    """1.4826 MAD of y minus the straight line through its two neighbours in T (interior points)."""
    if y.size < 5:
        return float("nan")
    w = (T[1:-1] - T[:-2]) / (T[2:] - T[:-2])
    dev = y[1:-1] - ((1 - w) * y[:-2] + w * y[2:])
    return float(1.4826 * np.median(np.abs(dev - np.median(dev))))


def photons_at_0db(power_dbm: float, f0: float, qi: float, qc: float) -> float:
    """Mean photon number of a notch resonator driven with ``power_dbm`` at its input, n = 2 Q_l² P/(Q_c ħ ω²)
    (Bruno et al., APL 106, 182601 (2015)), Q_l = (1/Q_i + 1/Q_c)⁻¹: here P is the VNA output power, so the true n
    is this times 10^(−A/10) for the unstated attenuation A [dB] before the sample, one factor per set-up."""
    q_l = 1.0 / (1.0 / qi + 1.0 / qc)
    return 2.0 * q_l**2 * 10.0 ** (power_dbm / 10.0) * 1e-3 / (qc * constants.hbar * (2.0 * np.pi * f0) ** 2)


def fmt(x: float) -> str:
    return f"{x:.10g}"


def build_rows(results: dict[str, dict | str]) -> tuple[list[dict], list[str], dict[str, float]]:
    """Table rows sorted by (resonator, power descending, T), notes on the references, scatter per series."""
    rows = []
    for name, fit in results.items():
        res, power, temp = NAME.fullmatch(name).groups()
        rows.append({"series": f"{res}@{power}dBm", "resonator": res, "power_dBm": int(power), "T_K": temp,
                     "fit": fit if isinstance(fit, dict) else None})
    rows.sort(key=lambda r: (int(r["resonator"].split("-")[1]), -r["power_dBm"], float(r["T_K"])))
    notes, scatter = [], {}
    for series in dict.fromkeys(r["series"] for r in rows):
        good = [r for r in rows if r["series"] == series and r["fit"] is not None]
        if not good:
            continue
        ref = good[0]
        if ref is not next(r for r in rows if r["series"] == series):
            notes.append(f"{series}: f_ref from T = {ref['T_K']} K (the lowest temperature failed)")
        f_ref = ref["fit"]["f0"]
        for r in good:
            r["df_f"] = r["fit"]["f0"] / f_ref - 1.0
            r["sigma_df_f"] = r["fit"]["sigma_f0"] / f_ref
            r["n_0dB"] = photons_at_0db(r["power_dBm"], r["fit"]["f0"], r["fit"]["Qi"], r["fit"]["Qc"])
        T = np.array([float(r["T_K"]) for r in good])
        scatter[series] = neighbour_scatter(T, np.array([r["df_f"] for r in good]))
    for r in rows:
        r["flag"] = "failed" if r["fit"] is None else ("noisy" if scatter[r["series"]] > NOISY_PPM * 1e-6 else "")
    return rows, notes, scatter


def csv_text(rows: list[dict], notes: list[str], failures: dict[str, str], skipped: list[str]) -> str:
    """The CSV file: provenance comments, header, rows (numbers %.10g, empty cells for a failed sweep)."""
    noisy = sorted({r["series"] for r in rows if r["flag"] == "noisy"})
    head = [
        "# DERIVED DATA: resonances fitted to measured S21 sweeps (not values published by the authors).",
        f"# source: {RAW.url}",
        f"# zip sha256: {RAW.sha256}; the files ExampleData/RES-n_P_DBM_TEMP_T.S2P (frequency column in Hz "
        "although its header says GHz)",
        f"# citation: {RAW.citation}",
        "# licence: MIT (the data; FaustinCarter/scraps LICENSE.txt)",
        f"# reduced by: datasets/reduce_resonators.py, glassfit.sweeps.fit_sweep with scraps {version('scraps')} "
        f"(hanger model) and lmfit {version('lmfit')} leastsq",
        "# power_dBm: VNA output power, uncalibrated (the attenuation before the sample is not stated)",
        "# f0_Hz: the resonance (pole) f_r = scraps f0 + df; Qi, Qc: internal and coupling Q (Qc = 1/Re(1/Qc^), "
        "diameter-corrected); sigma_*: lmfit 1-sigma scaled by the reduced chi2",
        "# df_f = f0/f_ref - 1 and sigma_df_f = sigma_f0/f_ref, f_ref the f0 at the lowest temperature of the series",
        "# n_0dB = 2 Ql^2 P/(Qc hbar w0^2), P the VNA output power (Bruno et al. APL 106, 182601): the mean photon "
        "number were there no attenuation before the sample; the true n is n_0dB * 10^(-A/10), A unstated",
        f"# flag noisy: the 1.4826 MAD of df_f about the line through its two temperature neighbours exceeds "
        f"{NOISY_PPM:g} ppm (series: {', '.join(noisy) or 'none'})",
        f"# flag failed: no resonance (significance < {MIN_SNR:g} sigma) or a failed fit; numeric cells empty",
    ]
    head += [f"# note: {n}" for n in notes]
    head += [f"# failed: {name.removeprefix('ExampleData/')}: {why}" for name, why in sorted(failures.items())]
    head += [f"# skipped (not a sweep file): {name}" for name in skipped]
    lines = [",".join(COLUMNS)]
    for r in rows:
        fit = r["fit"] or {}
        cells = [r["series"], r["resonator"], str(r["power_dBm"]), r["T_K"]]
        cells += [fmt(fit[k]) if fit else "" for k in ("f0", "sigma_f0", "Qi", "sigma_Qi", "Qc", "sigma_Qc")]
        cells += [fmt(r[k]) if fit else "" for k in ("df_f", "sigma_df_f", "n_0dB")]
        lines.append(",".join([*cells, r["flag"]]))
    return "\n".join(head + lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--zip", type=Path, help="ExampleData.zip (default: the catalogued, fetched file)")
    parser.add_argument("--out", type=Path, default=OUT, help=f"output CSV (default {OUT.relative_to(ROOT)})")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="worker processes")
    args = parser.parse_args(argv)
    if args.zip is None:
        try:
            args.zip = Path(fetch_raw("nbn-scraps-sweeps"))
        except DataError as exc:
            sys.exit(f"reduce_resonators: {exc}")
    digest = hashlib.sha256(args.zip.read_bytes()).hexdigest()
    if digest != RAW.sha256:
        sys.exit(f"{args.zip}: sha256 {digest}, expected {RAW.sha256} ({RAW.url})")
    start = time.perf_counter()
    with zipfile.ZipFile(args.zip) as z:
        members = [n for n in z.namelist() if not n.startswith("__MACOSX/") and not n.endswith((".DS_Store", "/"))]
    names = sorted(n for n in members if NAME.fullmatch(n))
    skipped = sorted(n for n in members if not NAME.fullmatch(n))
    with concurrent.futures.ProcessPoolExecutor(max_workers=max(args.jobs, 1)) as pool:
        results = dict(pool.map(reduce_one, [str(args.zip)] * len(names), names, chunksize=4))
    failures = {n: why for n, why in results.items() if isinstance(why, str)}
    rows, notes, scatter = build_rows(results)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(csv_text(rows, notes, failures, skipped), encoding="utf-8", newline="\n")
    elapsed = time.perf_counter() - start
    noisy = sorted({r["series"] for r in rows if r["flag"] == "noisy"})
    print(f"{len(names)} sweeps reduced in {elapsed:.0f} s ({args.jobs} processes), {len(failures)} failed, "
          f"{len(skipped)} other files skipped -> {args.out}")
    for why in sorted(failures.values()):
        print(f"  failed: {why}")
    print(f"noisy series (df_f scatter > {NOISY_PPM:g} ppm): {', '.join(noisy) or 'none'}")
    print("df_f scatter per series [ppm]: " + ", ".join(f"{s} {v * 1e6:.2f}" for s, v in scatter.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
