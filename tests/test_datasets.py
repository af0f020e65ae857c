import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from glassfit.datasets import STYCAST_1266, VESPEL_SP1, DataError, data_dir, read_cmb_s4_conductivity

SHARED = os.environ.get("GLASSFIT_DATA_DIR")
needs_data = pytest.mark.skipif(not SHARED,
                                reason="GLASSFIT_DATA_DIR is not set (CI sets it to ../shared/datasets/cmb-s4)")


@needs_data
def test_reads_the_published_files():
    sty = read_cmb_s4_conductivity(STYCAST_1266)
    assert len(sty.T) == 13 and sty.T[0] == pytest.approx(0.0609) and sty.kappa[-1] == pytest.approx(6.12e-2)
    assert sty.citation.startswith("Phonon Scattering and Transmission")       # the UTF-8 BOM is gone
    ves = read_cmb_s4_conductivity(VESPEL_SP1)
    assert len(ves.T) == 14 and np.all(np.diff(ves.T) > 0)
    assert "RunyanJones" in ves.citation


def _copy(tmp_path, text=None, digest=None):
    root = tmp_path / "cmb-s4"
    target = root / STYCAST_1266
    target.parent.mkdir(parents=True)
    if text is None:
        shutil.copy(Path(SHARED) / STYCAST_1266, target)
    else:
        target.write_text(text, encoding="utf-8")
    if digest is not None:
        (root / "SHA256SUMS.txt").write_text(f"{STYCAST_1266} {digest}\n", encoding="utf-8")
    return root


@needs_data
def test_sha256_mismatch_is_refused(tmp_path):
    root = _copy(tmp_path, digest="0" * 64)
    with pytest.raises(DataError, match="sha256 mismatch"):
        read_cmb_s4_conductivity(STYCAST_1266, root)


@pytest.mark.parametrize(("text", "match"), [
    ("title\nT(K),k(W/m/K)\n0.1,abc\n", "non-numeric"),
    ("title\nT(K),k(W/m/K)\n-0.1,1e-3\n", "must be > 0"),
    ("title\nT(K)\n0.1\n", "two columns"),
    ("title\nk(W/m/K),T(K)\n1e-3,0.1\n", "columns T"),
    ("title\n", "not a CSV"),
])
def test_bad_files(tmp_path, text, match):
    root = tmp_path / "d"
    (root / "x").mkdir(parents=True)
    (root / "x" / "f.csv").write_text(text, encoding="utf-8")
    with pytest.raises(DataError, match=match):
        read_cmb_s4_conductivity("x/f.csv", root)


def test_non_utf8_file(tmp_path):
    (tmp_path / "f.csv").write_bytes(b"\xff\xfe title\nT,k\n0.1,1\n")
    with pytest.raises(DataError, match="UTF-8"):
        read_cmb_s4_conductivity("f.csv", tmp_path)


def test_missing_file_and_directory(tmp_path, monkeypatch):
    with pytest.raises(DataError, match="missing data file"):
        read_cmb_s4_conductivity("nope.csv", tmp_path)
    monkeypatch.delenv("GLASSFIT_DATA_DIR", raising=False)
    with pytest.raises(DataError, match="not set"):
        data_dir()
    monkeypatch.setenv("GLASSFIT_DATA_DIR", str(tmp_path / "absent"))
    with pytest.raises(DataError, match="not a directory"):
        data_dir()
