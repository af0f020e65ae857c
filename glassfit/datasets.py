"""The dataset catalog: what each dataset is, where its file comes from, and loading it by id.

The catalog (``glassfit/data/catalog.toml``, shipped with the package) has one ``[[dataset]]`` per dataset and one
``[[raw]]`` per raw measured file that glassfit reduces (e.g. a zip of resonator S21 sweeps).  Third-party files
are never copied into the repository: they are looked up in ``$GLASSFIT_DATA_DIR/<collection>/<file>`` when the
variable is set (a pre-filled directory with one folder per upstream repository in its layout; CI points it at the
verbatim copies, so nothing is downloaded), otherwise fetched with pooch on first use into the user cache.  Either
way the file's sha256 must equal the catalog's.  Synthetic files (``glassfit/data/synthetic``) and derived ones
(``glassfit/data/derived``, reduced from a raw entry by a committed script) ship with the package.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import tomllib
import urllib.parse
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pooch

from glassfit.cache import cache_dir
from glassfit.dataset import NATURES, Dataset
from glassfit.loading import OBSERVABLES, VARIABLES, DataError, read_table

#: The catalog and the synthetic files, inside the installed package.
DATA = Path(__file__).parent / "data"


class ThirdParty:
    """Mixin of the catalog entries whose file comes from an upstream repository (``collection`` and ``file``)."""

    @property
    def local_path(self) -> str:
        """Where a third-party file lies in a data directory (and in the download cache): collection/file."""
        return f"{self.collection}/{self.file}"


@dataclass(frozen=True)
class CatalogEntry(ThirdParty):
    """One dataset of the catalog: metadata, where its file is, and how to read it (:func:`read_table`).

    ``ranges`` maps each independent variable to its (min, max) in glassfit's units; ``file`` is the path in
    the upstream repository (third-party, with ``collection``, ``url`` and ``sha256``) or under ``glassfit/data``
    (synthetic, with a ``synthetic`` table: model, options, grid, noise_rel, seed, true_params; derived, with
    ``derived_from``, the raw entry, and ``script``, what writes the file).  ``fixed``, ``select``, ``constant``
    and ``uncertainties = "none"`` (σ fitted) are :func:`read_table`'s ``fixed``, ``select``, ``constant`` and
    ``without_sigma``; ``title_line``: the file's first line is a citation (the CMB-S4 files).
    """

    id: str
    material: str
    observable: str
    nature: str
    citation: str
    licence: str
    points: int
    ranges: dict[str, list[float]]
    y_unit: str
    file: str
    columns: dict[str, str]
    units: dict[str, str]
    notes: str = ""
    collection: str | None = None
    url: str | None = None
    sha256: str | None = None
    sigma_rel: float | None = None
    uncertainties: str = "given"
    title_line: bool = False
    fixed: dict | None = None
    select: dict | None = None
    constant: dict | None = None
    synthetic: dict | None = None
    derived_from: str | None = None
    script: str | None = None

    def __post_init__(self):
        if self.observable not in OBSERVABLES or self.nature not in NATURES:
            raise ValueError(f"catalog entry {self.id}: bad observable {self.observable!r} or nature {self.nature!r}")
        if (self.nature == "synthetic") != (self.synthetic is not None) or (self.url is None) != (self.sha256 is None):
            raise ValueError(f"catalog entry {self.id}: a synthetic table iff synthetic, a url iff a sha256")
        if (self.url is None) == (self.collection is not None) or self.uncertainties not in ("given", "none"):
            raise ValueError(f"catalog entry {self.id}: a collection iff a url; uncertainties 'given' or 'none'")
        if (self.nature == "derived") != (self.derived_from is not None and self.script is not None):
            raise ValueError(f"catalog entry {self.id}: derived_from and script iff derived")

    @property
    def true_params(self) -> dict[str, float] | None:
        """The generating parameter values of a synthetic dataset, else None."""
        return dict(self.synthetic["true_params"]) if self.synthetic else None

    def summary(self) -> str:
        """One line: id, nature, observable, points and ranges."""
        ranges = ", ".join(f"{v} {lo:g}–{hi:g}" for v, (lo, hi) in self.ranges.items())
        return f"{self.id:30} {self.nature:9} {self.observable:15} {self.points:3d} pts  {ranges}"


@dataclass(frozen=True)
class RawEntry(ThirdParty):
    """A raw measured file of the catalog that glassfit reduces to datasets (``[[raw]]``): e.g. the zip of S21
    sweeps behind the derived resonator tables; ``format`` says what is in it and how it is written."""

    id: str
    material: str
    citation: str
    licence: str
    collection: str
    file: str
    url: str
    sha256: str
    format: str
    notes: str = ""


@cache
def _catalog_file() -> dict:
    with open(DATA / "catalog.toml", "rb") as stream:
        return tomllib.load(stream)


@cache
def catalog() -> dict[str, CatalogEntry]:
    """Every catalogued dataset by id, from ``glassfit/data/catalog.toml``."""
    entries = [CatalogEntry(**row) for row in _catalog_file()["dataset"]]
    return {entry.id: entry for entry in entries}


@cache
def raw_catalog() -> dict[str, RawEntry]:
    """Every raw file of the catalog by id."""
    return {row["id"]: RawEntry(**row) for row in _catalog_file().get("raw", [])}


def entry(dataset_id: str) -> CatalogEntry:
    """The catalog entry of ``dataset_id``; DataError naming the known ids if there is none."""
    try:
        return catalog()[dataset_id]
    except KeyError:
        raise DataError(f"unknown dataset {dataset_id!r}; known: {', '.join(catalog())}") from None


def list_datasets() -> list[CatalogEntry]:
    """Every catalog entry, third-party first, in catalog order."""
    return list(catalog().values())


def show_dataset(dataset_id: str) -> str:
    """A text summary of one catalog entry (true parameters of synthetic sets included)."""
    e = entry(dataset_id)
    lines = [f"{e.id}" + ("   *** SYNTHETIC: generated by glassfit, not a measurement ***" if e.synthetic else ""),
             f"  material    {e.material}", f"  observable  {e.observable} [{e.y_unit}]", f"  nature      {e.nature}",
             f"  points      {e.points}"]
    lines += [f"  {v:11} {lo:g} – {hi:g} {VARIABLES[v][1]}" for v, (lo, hi) in e.ranges.items()]
    lines += [f"  citation    {e.citation}", f"  licence     {e.licence}"]
    if e.url:
        lines += [f"  url         {e.url}", f"  sha256      {e.sha256}"]
    if e.derived_from:
        raw = raw_catalog()[e.derived_from]
        lines += [f"  derived     by {e.script} from {raw.url}", f"  raw sha256  {raw.sha256}"]
    if e.sigma_rel is not None:
        lines.append(f"  sigma       {e.sigma_rel:.0%} of the value (the file gives no uncertainties)")
    if e.uncertainties == "none":
        lines.append("  sigma       none given: fit it (--noise fitted, or absolute for values that cross zero)")
    if e.fixed:
        lines.append("  fixed       " + ", ".join(f"{k} = {v:g} {e.units.get(k, VARIABLES[k][1])}"
                                                for k, v in e.fixed.items()))
    if e.synthetic:
        s = e.synthetic
        lines.append(f"  model       {s['model']}({', '.join(f'{k}={v!r}' for k, v in s['options'].items())}), "
                     f"noise {s['noise_rel']:.0%}, seed {s['seed']}")
        lines.append("  true params " + ", ".join(f"{k} = {v:g}" for k, v in s["true_params"].items()))
    if e.notes:
        lines.append(f"  notes       {e.notes}")
    return "\n".join(lines)


def data_dir() -> Path | None:
    """``$GLASSFIT_DATA_DIR`` (a pre-filled directory with the upstream layout), or None if unset.

    DataError if it is set but not a directory.
    """
    env = os.environ.get("GLASSFIT_DATA_DIR")
    if not env:
        return None
    path = Path(env)
    if not path.is_dir():
        raise DataError(f"GLASSFIT_DATA_DIR={env} is not a directory")
    return path


def registry() -> pooch.Pooch:
    """A pooch registry of every third-party file of the catalog (datasets and raw files): collection/path ->
    sha256, with its URL."""
    third_party = [*(e for e in catalog().values() if e.url), *raw_catalog().values()]
    return pooch.create(path=cache_dir() / "data", base_url="",
                        registry={e.local_path: f"sha256:{e.sha256}" for e in third_party},
                        urls={e.local_path: e.url for e in third_party})


def _download(url: str, output_file: str, pup: pooch.Pooch) -> None:
    """pooch's HTTP download, quiet, giving up after 30 s without an answer."""
    pooch.HTTPDownloader(progressbar=False, timeout=30)(url, output_file, pup)


def _check_sha256(path: Path, expected: str) -> None:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != expected:
        raise DataError(f"{path}: sha256 mismatch: the catalog expects {expected}, the file has {digest}")


def fetch(dataset_id: str) -> Path:
    """The local path of a dataset's file, verified: synthetic and derived files from the package; third-party
    files from ``$GLASSFIT_DATA_DIR/<collection>`` if set, else downloaded once into ``data/`` under
    :func:`glassfit.cache.cache_dir` (pooch checks the sha256)."""
    e = entry(dataset_id)
    return DATA / e.file if e.url is None else _third_party(e)


def fetch_raw(raw_id: str) -> Path:
    """The local path of a raw file of the catalog (:func:`raw_catalog`), verified, found or fetched as
    :func:`fetch` does."""
    try:
        e = raw_catalog()[raw_id]
    except KeyError:
        raise DataError(f"unknown raw file {raw_id!r}; known: {', '.join(raw_catalog())}") from None
    return _third_party(e)


def _third_party(e) -> Path:
    """The verified local path of the third-party file of catalog entry ``e`` (dataset or raw)."""
    root = data_dir()
    if root is not None:
        path = root / e.local_path
        if not path.is_file():
            raise DataError(f"{e.id}: {path} is missing (GLASSFIT_DATA_DIR={root} holds one folder per upstream "
                            f"repository, here {e.collection}/); put the upstream file there or unset "
                            f"GLASSFIT_DATA_DIR to download {e.url}")
        _check_sha256(path, e.sha256)
        return path
    try:
        return Path(registry().fetch(e.local_path, downloader=_download))
    except ValueError as exc:            # pooch: the downloaded file's hash differs
        raise DataError(f"{e.id}: sha256 mismatch of the file downloaded from {e.url}: {exc}") from None
    except OSError as exc:               # requests' errors are OSErrors too
        host = urllib.parse.urlparse(e.url).netloc
        raise DataError(f"{e.id}: could not download it from {host} ({type(exc).__name__}: no network, or the host "
                        f"is down); to work offline, set GLASSFIT_DATA_DIR to a directory holding "
                        f"{e.local_path}") from None


def load(dataset_id: str) -> Dataset:
    """A catalogued dataset, read and validated, with the catalog's metadata; σ = sigma_rel · κ for the
    CMB-S4 files (no uncertainties given; 3 % covers their digitization error, shared datasets README)."""
    e = entry(dataset_id)
    path = fetch(dataset_id)
    data = read_table(path, e.observable, e.columns, e.units, fixed=e.fixed, sigma_rel=e.sigma_rel,
                      without_sigma=e.uncertainties == "none", select=e.select, constant=e.constant,
                      title_line=e.title_line)
    notes = (*data.notes, e.notes) if e.notes else data.notes
    if e.url is not None:
        where = "$GLASSFIT_DATA_DIR" if data_dir() is not None else "the download cache"
        notes = (*notes, f"read from {where}: {path} (the upstream file, sha256 checked)")
    if e.sigma_rel is not None:
        notes = (*notes, f"sigma_rel = {e.sigma_rel:g}: glassfit's default for digitized data (two digitizations "
                         "of one curve in the CMB-S4 set differ by a median 1.5 %, at most 6 %)")
    if e.derived_from is not None:
        raw = raw_catalog()[e.derived_from]
        notes = (*notes, f"DERIVED by {e.script} from the measured raw file {raw.url} (sha256 {raw.sha256})")
    return dataclasses.replace(data, id=e.id, material=e.material, nature=e.nature, citation=e.citation,
                               licence=e.licence, source=e.url or data.source, notes=notes,
                               true_params=e.true_params)


def load_source(source: str, read: dict | None = None) -> Dataset:
    """A dataset from a catalog id (``glassfit datasets list``) or from a file read with ``read``
    (observable, columns, units, sigma_rel: :func:`glassfit.loading.read_table`)."""
    if source in catalog():
        return load(source)
    path = Path(source)
    if not path.exists():
        raise DataError(f"{source}: neither a catalogued dataset (see `glassfit datasets list`) nor a file")
    read = dict(read or {})
    if "observable" not in read or "columns" not in read:
        raise DataError(f"{source}: a file needs --observable and --columns (e.g. --columns T=Temp,y=C,sigma=dC)")
    return read_table(path, **read)


def file_reads(sources, read) -> list[dict | None]:
    """The read options of each source (None for a catalog id): ``read`` is one dict for every file, or a list
    with one per file in the order of the files."""
    files = [s for s in sources if s not in catalog()]
    per_file = list(read) if isinstance(read, list | tuple) else [read] * len(files)
    if len(per_file) != len(files):
        raise ValueError(f"{len(per_file)} sets of file options for {len(files)} data files")
    reads = iter(per_file)
    return [None if s in catalog() else next(reads) for s in sources]


__all__ = ["DATA", "CatalogEntry", "DataError", "Dataset", "RawEntry", "ThirdParty", "catalog", "data_dir", "entry",
           "fetch", "fetch_raw", "file_reads", "list_datasets", "load", "load_source", "raw_catalog", "registry",
           "show_dataset"]
