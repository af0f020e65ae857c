"""The dataset catalog, the fetching of third-party files (never from the network here) and the synthetic sets."""

import importlib.util
import os
import re
import shutil
from pathlib import Path
from urllib.parse import quote, unquote

import lmfit
import numpy as np
import pytest
import requests

from glassfit import datasets
from glassfit.datasets import DATA, DataError, catalog, fetch, list_datasets, load, show_dataset
from glassfit.loading import check_against_model
from glassfit.models import REGISTRY

SHARED = os.environ.get("GLASSFIT_DATA_DIR")
needs_data = pytest.mark.skipif(not SHARED,
                                reason="GLASSFIT_DATA_DIR is not set (CI sets it to ../shared/datasets)")
#: each collection's upstream repository at its pinned commit
UPSTREAM = {"cmb-s4": "https://raw.githubusercontent.com/CMB-S4/Cryogenic_Material_Properties/"
                      "228e540e7c2503611c4fbdf5d90e323e8ea85caf/",
            "resonators/philzghub-cpwfit": "https://raw.githubusercontent.com/philzghub/"
                                           "Quality_Factor_and_Frequency_Shift_Fitting/"
                                           "61cd1b781269267f0c5827475e75017eb70829b9/"}
THIRD_PARTY = [e.id for e in list_datasets() if e.url]
SYNTHETIC = [e.id for e in list_datasets() if e.nature == "synthetic"]


def _make_synthetic():
    path = Path(__file__).parents[1] / "datasets" / "make_synthetic.py"
    spec = importlib.util.spec_from_file_location("make_synthetic", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_catalog_lists_the_required_datasets():
    required = {"stycast-1266", "vespel-sp1", "kapton-lawrence-2000", "teflon-anderson-1963-s1",
                "teflon-anderson-1963-s2", "ketron-peek-1000", "macor"}
    assert required <= set(THIRD_PARTY)
    assert {catalog()[i].nature for i in required} == {"digitized"}
    observables = {catalog()[i].observable for i in SYNTHETIC}
    assert {"heat_capacity", "conductivity", "attenuation", "time_heat"} <= observables


@pytest.mark.parametrize("dataset_id", THIRD_PARTY)
def test_third_party_entries_point_at_the_pinned_upstream_file(dataset_id):
    e = catalog()[dataset_id]
    assert e.url == UPSTREAM[e.collection] + quote(e.file) and " " not in e.url
    assert len(e.sha256) == 64
    # digitized κ(T): 3 % (the compilation gives no σ); the resonator files give none either: σ is fitted
    assert (e.sigma_rel, e.uncertainties) == ((0.03, "given") if e.nature == "digitized" else (None, "none"))
    assert not (DATA / e.file).exists()                         # never copied into the repository


def _shared_sums(collection: str) -> dict[str, str]:
    """path under ``collection`` → sha256, from the SHA256SUMS.txt of the collection or of its parent folder."""
    folder, sums = Path(SHARED) / collection, {}
    for where, prefix in ((folder, ""), (folder.parent, folder.name + "/")):
        if (where / "SHA256SUMS.txt").is_file():
            for line in (where / "SHA256SUMS.txt").read_text().splitlines():
                path, digest = line.rsplit(" ", 1)
                if path.startswith(prefix):
                    sums[path.removeprefix(prefix)] = digest
    return sums


@needs_data
def test_catalog_sha256_are_the_upstream_files():
    for e in [*(catalog()[i] for i in THIRD_PARTY), *datasets.raw_catalog().values()]:
        assert e.sha256 == _shared_sums(e.collection)[e.file], e.id


@pytest.mark.parametrize("dataset_id", [pytest.param(i, marks=needs_data) for i in THIRD_PARTY] + SYNTHETIC)
def test_loaded_datasets_match_their_catalog_entry(dataset_id):
    e, data = catalog()[dataset_id], load(dataset_id)
    assert data.n == e.points and data.observable == e.observable and data.y_unit == e.y_unit
    assert tuple(data.x) == tuple(e.ranges)
    for name, (lo, hi) in e.ranges.items():
        assert (data.x[name].min(), data.x[name].max()) == pytest.approx((lo, hi), rel=1e-9)
    assert (data.sigma is None if e.uncertainties == "none" else np.all(data.sigma > 0))
    assert data.nature == e.nature and data.citation == e.citation
    assert ("SYNTHETIC" in data.label) == (e.nature == "synthetic")
    assert ("SYNTHETIC" in show_dataset(dataset_id)) == (e.nature == "synthetic")


@needs_data
def test_stycast_1266_as_published():
    data = load("stycast-1266")
    assert data.x["T"][0] == pytest.approx(0.0609) and data.y[-1] == pytest.approx(6.12e-2)
    assert data.sigma == pytest.approx(0.03 * data.y)
    assert data.notes[0] == ("title line: Phonon Scattering and Transmission at Silicon-Helium Interfaces,"
                             "J. R. Olson,Cornell University 1993")                  # the UTF-8 BOM is gone
    assert any("sigma_rel = 0.03" in note for note in data.notes)
    assert data.source == catalog()["stycast-1266"].url and data.sha256 == catalog()["stycast-1266"].sha256
    teflon = load("teflon-anderson-1963-s1")                                  # rows out of order upstream
    assert np.all(np.diff(teflon.x["T"]) > 0) and any("sorted" in note for note in teflon.notes)


def test_unknown_id_and_bad_data_dir(tmp_path, monkeypatch):
    with pytest.raises(DataError, match="unknown dataset 'nope'; known: stycast-1266"):
        load("nope")
    monkeypatch.setenv("GLASSFIT_DATA_DIR", str(tmp_path / "absent"))
    with pytest.raises(DataError, match="is not a directory"):
        fetch("stycast-1266")
    monkeypatch.setenv("GLASSFIT_DATA_DIR", str(tmp_path))
    with pytest.raises(DataError, match=re.escape("1993 J. R. Olson Stycast 1266.csv is missing")):
        fetch("stycast-1266")


def test_sha256_mismatch_in_the_data_dir(tmp_path, monkeypatch):
    e = catalog()["vespel-sp1"]
    target = tmp_path / e.local_path
    target.parent.mkdir(parents=True)
    target.write_text("VESPEL SP-1 ROD:,RunyanJones,2008\nT_bar,k (W/m*K),k/T\n0.328,4.17E-04,1.27E-03\n")
    monkeypatch.setenv("GLASSFIT_DATA_DIR", str(tmp_path))
    with pytest.raises(DataError, match=f"VESPEL SP-1 ROD_2008.csv: sha256 mismatch: the catalog expects {e.sha256}, "
                                        "the file has [0-9a-f]{64}$"):
        load("vespel-sp1")


@pytest.fixture
def offline_pooch(tmp_path, monkeypatch):
    """GLASSFIT_DATA_DIR unset, pooch's cache in tmp_path and its downloads served by ``serve(url, output)``."""
    monkeypatch.delenv("GLASSFIT_DATA_DIR", raising=False)
    monkeypatch.setenv("GLASSFIT_CACHE_DIR", str(tmp_path / "cache"))
    urls = []

    def install(serve):
        def download(url, output_file, pup):
            urls.append(url)
            serve(url, output_file)
        monkeypatch.setattr(datasets, "_download", download)
        return urls
    return install


@needs_data
def test_fetch_downloads_once_into_the_cache(offline_pooch, tmp_path):
    upstream = UPSTREAM["cmb-s4"]
    urls = offline_pooch(lambda url, out: shutil.copy(Path(SHARED) / "cmb-s4" / unquote(url.removeprefix(upstream)),
                                                      out))
    path = fetch("stycast-1266")
    assert path == tmp_path / "cache" / "data" / catalog()["stycast-1266"].local_path and path.is_file()
    assert load("stycast-1266").n == 13 and fetch("stycast-1266") == path
    assert urls == [catalog()["stycast-1266"].url]                          # cached: downloaded only once


def test_fetched_file_with_the_wrong_sha256(offline_pooch):
    offline_pooch(lambda url, out: Path(out).write_text("T,k\n1,1\n"))
    with pytest.raises(DataError, match="stycast-1266: sha256 mismatch of the file downloaded from https://"):
        fetch("stycast-1266")


def test_download_failure_is_one_message(offline_pooch):
    def unreachable(url, out):                     # what urllib3 says is hundreds of characters long
        raise requests.ConnectionError("HTTPSConnectionPool(host=...): Max retries exceeded " + "x" * 500)
    offline_pooch(unreachable)
    expected = (r"could not download it from raw.githubusercontent.com \(ConnectionError: no network, or the host is "
                r"down\); to work offline, set GLASSFIT_DATA_DIR")
    with pytest.raises(DataError, match=expected) as info:
        fetch("macor")
    assert len(str(info.value)) < 300


def test_registry_holds_every_third_party_file(tmp_path, monkeypatch):
    monkeypatch.setenv("GLASSFIT_CACHE_DIR", str(tmp_path))
    pup = datasets.registry()
    raw = datasets.raw_catalog().values()
    assert set(pup.registry) == {catalog()[i].local_path for i in THIRD_PARTY} | {e.local_path for e in raw}
    for e in (catalog()["macor"], catalog()["nb-cpw-loss-80dbm"], *raw):
        assert pup.registry[e.local_path] == f"sha256:{e.sha256}" and pup.get_url(e.local_path) == e.url


def test_synthetic_files_are_what_the_generator_writes(monkeypatch):
    monkeypatch.delenv("GLASSFIT_DATA_DIR", raising=False)                   # synthetic sets need no data dir
    make = _make_synthetic()
    for dataset_id in SYNTHETIC:
        e, data = catalog()[dataset_id], load(dataset_id)
        x, y, sigma = make.generate(e)
        assert all(np.allclose(data.x[k], x[k], rtol=1e-9) for k in x)
        assert np.allclose(data.y, y, rtol=1e-8) and np.allclose(data.sigma, sigma, rtol=1e-8)
        assert np.std(y / sigma * e.synthetic["noise_rel"] - 1) == pytest.approx(e.synthetic["noise_rel"], rel=0.4)
        head = (DATA / e.file).read_text(encoding="utf-8").splitlines()[0]
        assert head.startswith("# SYNTHETIC DATA") and data.true_params == e.synthetic["true_params"]


@pytest.mark.parametrize("dataset_id", SYNTHETIC)
def test_synthetic_sets_fit_their_generating_model(dataset_id):
    e = catalog()[dataset_id]
    model = REGISTRY[e.synthetic["model"]](**e.synthetic["options"])
    assert set(e.synthetic["true_params"]) == {spec.name for spec in model.parameter_table}
    check_against_model(load(dataset_id), model, e.synthetic["true_params"])


@pytest.mark.parametrize(("dataset_id", "name"), [("synthetic-stm-heat-capacity", "P0"),
                                                  ("synthetic-kki-heat-capacity", "log10_N")])
def test_a_fit_recovers_the_true_value(dataset_id, name):
    """``name`` free from its default, every other parameter fixed at its true value (KKI's c(T) alone pins
    only one combination of η_c, ξ_c and N: models.KKIHeatCapacityModel)."""
    e, data = catalog()[dataset_id], load(dataset_id)
    model = REGISTRY[e.synthetic["model"]](**e.synthetic["options"])
    params = model.make_params(**e.true_params)
    for p in params.values():
        p.set(vary=p.name == name)
    params[name].set(value=model.spec(name).default)
    result = model.fit(data.y, params, weights=1.0 / data.sigma, **data.x)
    p: lmfit.Parameter = result.params[name]
    assert abs(p.value - e.true_params[name]) < 3.0 * p.stderr
