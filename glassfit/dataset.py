"""The one data container of glassfit: points of one observable with their errors and provenance.

Files and catalog entries are read into it (:func:`glassfit.loading.read_table`, :func:`glassfit.datasets.load`),
synthetic sets and in-memory arrays are built as it, and objectives, plots and reports take it as it is.  It is
checked once, here, when it is made; nothing downstream checks the points again.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from glassfit.validation import finite_array

NATURES = ("measured", "digitized", "derived", "synthetic")


@dataclass(frozen=True, eq=False)
class Dataset:
    """Points of one observable in glassfit's units.

    ``x``: independent variable name → array (T [K], f [Hz], t [s], n [photons], in the model's order), each of
    one value or as many as ``y``; ``y``: values in ``y_unit``; ``sigma``: their standard errors (same unit, > 0;
    one value or one per point), or None (only the noise models "fitted" and "absolute" work without).  ``id``
    names the dataset in noise-parameter names, summaries and plots; ``observable`` is one of
    :data:`glassfit.loading.OBSERVABLES` ("" for a generic model); ``nature`` is "measured", "digitized",
    "derived" (reduced from measured raw data by a committed script) or "synthetic"; ``true_params`` holds the
    generating parameters of a synthetic set; ``sha256`` is the source file's hash (for points built in memory,
    the hash of x, y and σ).

    >>> d = Dataset({"T": [0.1, 0.2]}, [1.0, 2.0], 0.1, id="demo")
    >>> d.x["T"].shape, d.sigma.tolist(), d.n
    ((2,), [0.1, 0.1], 2)
    """

    x: dict
    y: np.ndarray
    sigma: np.ndarray | None = None
    id: str = "data"
    observable: str = ""
    y_unit: str = ""
    material: str = ""
    nature: str = "measured"
    citation: str = ""
    licence: str = ""
    source: str = ""
    sha256: str | None = None
    notes: tuple[str, ...] = ()
    true_params: dict[str, float] | None = None

    def __post_init__(self):
        y = np.ravel(finite_array(f"{self.id}: y", self.y))
        if y.size == 0:
            raise ValueError(f"{self.id}: y is empty")
        if not isinstance(self.x, dict) or not self.x:
            raise TypeError(f"{self.id}: x must be a dict of independent-variable arrays, e.g. {{'T': T}}")
        if self.nature not in NATURES:
            raise ValueError(f"{self.id}: nature must be one of {NATURES}, got {self.nature!r}")
        x = {}
        for key, value in self.x.items():
            arr = finite_array(f"{self.id}: {key}", value)
            if arr.size not in (1, y.size):
                raise ValueError(f"{self.id}: {key} has {arr.size} values but y has {y.size}")
            x[key] = np.broadcast_to(np.ravel(arr), y.shape).copy()
        object.__setattr__(self, "x", x)
        object.__setattr__(self, "y", y)
        if self.sigma is not None:
            sigma = np.ravel(finite_array(f"{self.id}: sigma", self.sigma))
            if sigma.size not in (1, y.size):
                raise ValueError(f"{self.id}: sigma has {sigma.size} values but y has {y.size}")
            if np.any(sigma <= 0):
                raise ValueError(f"{self.id}: sigma must be > 0")
            object.__setattr__(self, "sigma", np.broadcast_to(sigma, y.shape).copy())
        if not self.sha256:
            object.__setattr__(self, "sha256", self._arrays_hash())

    def _arrays_hash(self) -> str:
        h = hashlib.sha256()
        for key in sorted(self.x):
            h.update(key.encode() + self.x[key].tobytes())
        h.update(self.y.tobytes() + (b"" if self.sigma is None else self.sigma.tobytes()))
        return h.hexdigest()

    @property
    def n(self) -> int:
        """Number of points."""
        return len(self.y)

    @property
    def label(self) -> str:
        """The name for plots and reports: the id, marked SYNTHETIC for generated data and derived for data reduced
        from measured raw files."""
        return {"synthetic": f"{self.id} (SYNTHETIC)", "derived": f"{self.id} (derived)"}.get(self.nature, self.id)


__all__ = ["NATURES", "Dataset"]
