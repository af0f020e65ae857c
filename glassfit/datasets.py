"""Measured datasets: where they live and how their files are read (the catalog arrives with the datasets issue).

Third-party files are never copied into the repository.  They are read from a local data directory,
``$GLASSFIT_DATA_DIR`` (CI points it at the verbatim CMB-S4 compilation beside the clone), and checked
against the compilation's ``SHA256SUMS.txt`` when it is present.
"""

from __future__ import annotations

import hashlib
import io
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

#: Files of the CMB-S4 compilation (Cryogenic_Material_Properties, commit 228e540e; BSD-3-Clause) used so far.
STYCAST_1266 = "thermal_conductivity/lib/Stycast/RAW/1993 J. R. Olson Stycast 1266.csv"
VESPEL_SP1 = "thermal_conductivity/lib/VESPEL/RAW/VESPEL SP-1 ROD_2008.csv"


class DataError(ValueError):
    """A data file that is missing, unreadable or not what it claims to be."""


def data_dir() -> Path:
    """``$GLASSFIT_DATA_DIR``; DataError if it is unset or not a directory."""
    env = os.environ.get("GLASSFIT_DATA_DIR")
    if not env:
        raise DataError("GLASSFIT_DATA_DIR is not set: point it at a copy of the CMB-S4 compilation")
    path = Path(env)
    if not path.is_dir():
        raise DataError(f"GLASSFIT_DATA_DIR={env} is not a directory")
    return path


@dataclass(frozen=True)
class ConductivityData:
    """Measured κ(T): temperatures [K], conductivity [W m⁻¹ K⁻¹], the file's citation line and its sha256."""

    T: np.ndarray
    kappa: np.ndarray
    citation: str
    sha256: str
    path: str


def _expected_sha256(root: Path, relative: str) -> str | None:
    sums = root / "SHA256SUMS.txt"
    if not sums.is_file():
        return None
    for line in sums.read_text(encoding="utf-8").splitlines():
        name, _, digest = line.rpartition(" ")
        if name == relative:
            return digest
    return None


def read_cmb_s4_conductivity(relative: str, root: Path | None = None) -> ConductivityData:
    """Read a κ(T) file of the CMB-S4 compilation as published (line 1 a citation,
    possibly with a UTF-8 BOM; line 2 a header ``T…,k…[,k/T]``; then rows), verifying its sha256.
    """
    root = Path(root) if root is not None else data_dir()
    path = root / relative
    if not path.is_file():
        raise DataError(f"missing data file: {path}")
    raw = path.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    expected = _expected_sha256(root, relative)
    if expected is not None and expected != digest:
        raise DataError(f"sha256 mismatch for {relative}: expected {expected}, got {digest}")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DataError(f"{relative}: not UTF-8 text") from None
    citation, _, body = text.partition("\n")
    try:
        table = pd.read_csv(io.StringIO(body))
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataError(f"{relative}: not a CSV table ({exc})") from None
    if table.shape[1] < 2:
        raise DataError(f"{relative}: expected at least two columns (T, k), got {list(table.columns)}")
    first, second = (str(c).strip().lower() for c in table.columns[:2])
    if not (first.startswith("t") and second.startswith("k")):
        raise DataError(f"{relative}: expected columns T [K] and k [W/m/K] first, got {list(table.columns[:2])}")
    values = table.iloc[:, :2].apply(pd.to_numeric, errors="coerce").to_numpy()
    if np.any(~np.isfinite(values)):
        raise DataError(f"{relative}: non-numeric or missing values in the T or k column")
    T, kappa = values.T
    if np.any(T <= 0) or np.any(kappa <= 0):
        raise DataError(f"{relative}: temperatures and conductivities must be > 0")
    order = np.argsort(T)
    return ConductivityData(T[order], kappa[order], citation.strip().strip(",").replace(",", ", "), digest, relative)


__all__ = ["STYCAST_1266", "VESPEL_SP1", "ConductivityData", "DataError", "data_dir", "read_cmb_s4_conductivity"]
