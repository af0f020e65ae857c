"""Data tables read into a validated :class:`Dataset`: user files, the synthetic sets and the CMB-S4 files alike.

A table is text with one header line and one row per point; the delimiter (comma, semicolon, tab or
whitespace) is sniffed from the header, ``#`` lines and blank lines are skipped, UTF-8 (with or without a
BOM), UTF-16 and Windows-1252 files (spreadsheet exports) are read, and decimal commas are accepted when the
delimiter is not a comma.  Values are converted at this edge to glassfit's units (T in K, f in Hz, t in s,
c in J/(g K), J/(mol K) or J/(m3 K), κ in W/(m K), attenuation as Q⁻¹ or l⁻¹ in 1/m, a resonator's loss as 1/Q
from 1/Q or Q, δv/v and δf/f dimensionless) by :func:`glassfit.constants.to_glassfit_unit`.  Every problem is
one :class:`DataError` whose message names the file and, where it applies, the line and the column.
"""

from __future__ import annotations

import csv
import hashlib
import logging
import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from glassfit.constants import error_to_glassfit_unit, to_glassfit_unit, unit_info
from glassfit.contract import card_of
from glassfit.dataset import Dataset

log = logging.getLogger(__name__)

#: observable -> (independent variables in the models' order, quantity of y)
OBSERVABLES: dict[str, tuple[tuple[str, ...], str]] = {
    "heat_capacity": (("T",), "heat_capacity"),
    "conductivity": (("T",), "conductivity"),
    "attenuation": (("f", "T"), "attenuation"),
    "velocity": (("f", "T"), "relative_shift"),
    "time_heat": (("T", "t"), "heat_capacity"),
    "loss": (("f", "T", "n"), "loss"),
    "frequency_shift": (("f", "T"), "relative_shift"),
    "heat_release": (("t", "T", "T1"), "heat_release"),
}
#: independent variable -> (quantity, default unit in files)
#: (f of a resonator: its resonance frequency; n: the mean number of photons in it)
#: (heat release: t the time after the quench from T1 to the bath temperature T)
VARIABLES: dict[str, tuple[str, str]] = {"T": ("temperature", "K"), "f": ("frequency", "Hz"), "t": ("time", "s"),
                                         "n": ("photon_number", "photons"), "T1": ("temperature", "K")}
#: observables whose values are positive by nature (a heat capacity, a conductivity, an attenuation, a loss)
POSITIVE = ("heat_capacity", "conductivity", "attenuation", "time_heat", "loss", "heat_release")
#: no measured value of any observable comes near this magnitude
ABSURD = 1e100
_DECIMAL_COMMA = re.compile(r"[+-]?\d*,\d+([eE][+-]?\d+)?")


class DataError(ValueError):
    """A data file or dataset that is missing, unreadable, invalid or does not fit the model; one readable line."""


def _decode(raw: bytes, name: str) -> tuple[str, str | None]:
    """(text, note) of a file's bytes: UTF-16 with a BOM, UTF-8 (BOM dropped), else Windows-1252."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16"), None
    if b"\x00" in raw:
        raise DataError(f"{name}: a binary file, not a text table (export a spreadsheet as CSV)")
    try:
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252"), "read as Windows-1252 text (not UTF-8)"
    except UnicodeDecodeError:
        raise DataError(f"{name}: not a text file (neither UTF-8, UTF-16 nor Windows-1252)") from None


def _split(lines: list[tuple[int, str]], delimiter: str, name: str) -> list[list[str]]:
    """Cells of each line, stripped; ``" "`` splits on runs of whitespace; one DataError for a line the csv
    module cannot split (a cell beyond its field limit, a quote opened and never closed)."""
    if delimiter == " ":
        return [text.split() for _, text in lines]
    rows = []
    for n, text in lines:
        try:
            (row,) = csv.reader([text], delimiter=delimiter, strict=True)
        except (csv.Error, ValueError) as exc:
            raise DataError(f"{name}: line {n} cannot be read as {delimiter!r}-separated cells ({exc})") from None
        rows.append([cell.strip() for cell in row])
    return rows


def _number(cell: str, delimiter: str) -> float | None:
    """The float in ``cell`` (a decimal comma allowed unless commas delimit), or None."""
    try:
        return float(cell)
    except ValueError:
        if delimiter != "," and _DECIMAL_COMMA.fullmatch(cell):
            return float(cell.replace(",", "."))
        return None


def _units(observable, roles, units, name):
    """role -> (unit as given, canonical unit name) for every role, checked against its quantity."""
    independent, quantity = OBSERVABLES[observable]
    expected = {v: VARIABLES[v][0] for v in independent} | {"y": quantity, "sigma": quantity}
    units = dict(units or {})
    unknown = set(units) - set(expected)
    if unknown:
        raise DataError(f"{name}: units given for {sorted(unknown)}, which a {observable} table does not have "
                        f"(it has {', '.join(expected)})")
    if "y" not in units:
        raise DataError(f"{name}: give the unit of y, e.g. units={{'y': 'J/(g K)'}}")
    units.setdefault("sigma", units["y"])
    result = {}
    for role in roles:
        given = units.get(role, VARIABLES[role][1] if role in VARIABLES else None)
        try:
            canonical, got, target, _ = unit_info(given)
        except ValueError as exc:
            raise DataError(f"{name}: {role}: {exc}") from None
        if got != expected[role]:
            raise DataError(f"{name}: unit {given!r} of {role} is a {got.replace('_', ' ')} unit, "
                            f"not a {expected[role].replace('_', ' ')} unit")
        result[role] = (given, canonical, target)
    if "sigma" in result and result["sigma"][2] != result["y"][2]:
        raise DataError(f"{name}: sigma in {result['sigma'][0]} cannot be compared with y in {result['y'][0]}")
    return result


def _selected(lines, rows, header, select, name):
    """(lines, rows) with the header line and the data rows whose cells match ``select`` (column -> text)."""
    if not select:
        return lines, rows
    keep = [all(j < len(cells) and cells[j] == str(text) for j, text in ((header.index(c), t)
                                                                        for c, t in select.items()))
            for cells in rows]
    if not any(keep):
        wanted = ", ".join(f"{c} = {t!r}" for c, t in select.items())
        raise DataError(f"{name}: no row has {wanted}")
    return [lines[0], *(line for line, k in zip(lines[1:], keep, strict=True) if k)], \
        [cells for cells, k in zip(rows, keep, strict=True) if k]


def _check_constant(lines, rows, header, constant, delimiter, name):
    """DataError at the first row whose cell in a column of ``constant`` differs from the stated value."""
    for col, value in constant.items():
        j = header.index(col)
        for (n, _), cells in zip(lines, rows, strict=True):
            got = _number(cells[j], delimiter) if j < len(cells) else None
            if got is None or not np.isclose(got, float(value), rtol=1e-9, atol=0.0):
                raise DataError(f"{name}: line {n}, column {col!r} reads {cells[j] if j < len(cells) else ''!r} "
                                f"but the file is stated to be at {col} = {float(value):g} (e.g. by its name); "
                                "correct the file or the stated value")


def read_table(path, observable: str, columns: Mapping[str, str], units: Mapping[str, str] | None = None, *,
               fixed: Mapping[str, float] | None = None, sigma_rel: float | None = None, without_sigma: bool = False,
               select: Mapping[str, str] | None = None, constant: Mapping[str, float] | None = None,
               delimiter: str | None = None, comment: str = "#", title_line: bool = False) -> Dataset:
    """Read a table of one observable into a :class:`Dataset` in glassfit's units, validated.

    Parameters
    ----------
    path : str or Path
        The file.
    observable : {"heat_capacity", "conductivity", "attenuation", "velocity", "time_heat", "loss", "frequency_shift",
        "heat_release"}
        What y is; fixes the independent variables (T; f and T; T and t; f, T and n for a resonator's loss 1/Q_i at
        mean photon number n; f and T for its δf/f; t, T and T1 for the heat release Q̇ at t after a quench from T1 to
        the bath temperature T).
    columns : mapping
        Role -> column name in the header: every independent variable not in ``fixed``, "y", optionally "sigma".
    units : mapping, optional
        Role -> unit as written in the file (see :data:`glassfit.constants.UNITS`); "y" is required, T, f, t
        default to K, Hz, s and sigma to the unit of y.
    fixed : mapping, optional
        Independent variables not in the file, e.g. ``{"f": 1.0}`` with ``units={"f": "kHz"}``.
    sigma_rel : float, optional
        σ = sigma_rel · |y| when the file has no uncertainty column (then mapping "sigma" is an error).
    without_sigma : bool
        The file has no uncertainties and none is assumed: σ is left None, for a noise model that fits it
        ("fitted" or "absolute", :mod:`glassfit.objective`).
    select : mapping, optional
        Column name -> text: only the rows whose cell in that column is that text (one series of a long table).
    constant : mapping, optional
        Column name -> the value every kept row must hold there, e.g. ``{"Power (dBm)": -80}`` for a file whose
        name gives its power: a row that disagrees is an error naming the line.
    delimiter : {None, ",", ";", "\\t", " "}
        None sniffs it from the header; " " means runs of whitespace.
    comment : str
        Lines starting with it are skipped.
    title_line : bool
        The first line is free text (a citation, as in the CMB-S4 files) and is kept in the notes.
    """
    name = str(path)
    if observable not in OBSERVABLES:
        raise DataError(f"unknown observable {observable!r}; one of {', '.join(OBSERVABLES)}")
    independent = OBSERVABLES[observable][0]
    fixed = dict(fixed or {})
    columns = dict(columns)
    if set(fixed) - set(independent):
        raise DataError(f"{name}: fixed {sorted(set(fixed) - set(independent))} are not independent variables "
                        f"of {observable} ({', '.join(independent)})")
    needed = [v for v in independent if v not in fixed] + ["y"]
    allowed = [*needed, "sigma"]
    if set(columns) - set(allowed):
        raise DataError(f"{name}: columns has {sorted(set(columns) - set(allowed))}; "
                        f"the roles of a {observable} table are {', '.join(allowed)}")
    missing = [role for role in needed if role not in columns]
    if missing:
        raise DataError(f"{name}: columns must name the column of {', '.join(missing)}")
    if without_sigma and ("sigma" in columns or sigma_rel is not None):
        raise DataError(f"{name}: without_sigma contradicts a 'sigma' column or sigma_rel")
    if not without_sigma and ("sigma" in columns) == (sigma_rel is not None):
        raise DataError(f"{name}: give either a 'sigma' column or sigma_rel (e.g. 0.03), "
                        + ("not both" if sigma_rel is not None else
                           "neither was given (or fit σ with --noise fitted or --noise absolute)"))
    if sigma_rel is not None and not sigma_rel > 0:
        raise DataError(f"{name}: sigma_rel must be > 0, got {sigma_rel}")
    unit = _units(observable, [*independent, "y", *(["sigma"] if "sigma" in columns else [])], units, name)

    path = Path(path)
    if not path.exists():
        raise DataError(f"{name}: no such file")
    if not path.is_file():
        raise DataError(f"{name}: not a file")
    raw = path.read_bytes()
    text, note = _decode(raw, name)
    notes = [note] if note else []
    lines = list(enumerate(text.splitlines(), start=1))
    if title_line and lines:
        notes.append(f"title line: {lines[0][1].strip()}")
        lines = lines[1:]
    lines = [(n, t) for n, t in lines if t.strip() and not t.lstrip().startswith(comment)]
    if not lines:
        raise DataError(f"{name}: empty file (no header and no data rows)")
    if len(lines) == 1:
        raise DataError(f"{name}: no data rows under the header line")
    if delimiter is None:
        delimiter = next((d for d in ("\t", ";", ",") if d in lines[0][1]), " ")
    header, *rows = _split(lines, delimiter, name)
    repeated = sorted({cell for cell in header if cell and header.count(cell) > 1})
    if repeated:
        raise DataError(f"{name}: the header names {', '.join(map(repr, repeated))} more than once; rename the "
                        "columns so that each role maps to one")
    for (n, _), cells in zip(lines[1:], rows, strict=True):
        if len(cells) > len(header) and any(cells[len(header):]):
            raise DataError(f"{name}: line {n} has {len(cells)} cells, the header {len(header)}: a ragged table "
                            f"(decimal commas in a {delimiter!r}-separated file?); no row may have extra cells")
    wanted = {**columns, **{f"select {c}": c for c in select or {}},
              **{f"constant {c}": c for c in constant or {}}}
    for role, col in wanted.items():
        if col not in header:
            hint = f" (one column found with delimiter {delimiter!r}: wrong delimiter?)" if len(header) == 1 else ""
            raise DataError(f"{name}: no column {col!r} for {role}; the columns are "
                            f"{', '.join(map(repr, header))}{hint}")
    lines, rows = _selected(lines, rows, header, select or {}, name)
    _check_constant(lines[1:], rows, header, constant or {}, delimiter, name)

    values = {}
    decimal_comma = False
    for role, col in columns.items():
        j = header.index(col)
        column = np.empty(len(rows))
        for i, ((n, _), cells) in enumerate(zip(lines[1:], rows, strict=True)):
            where = f"{name}: line {n}, column {col!r}"
            if j >= len(cells):
                raise DataError(f"{where}: missing cell (the line has {len(cells)} cells, the header {len(header)})")
            number = _number(cells[j], delimiter)
            if number is None:
                raise DataError(f"{where}: " + (f"not a number: {cells[j]!r}" if cells[j] else "empty cell"))
            if not np.isfinite(number):
                raise DataError(f"{where}: {role} is {cells[j]}; NaN and infinite values are not data")
            decimal_comma |= "," in cells[j]
            column[i] = number
        values[role] = column
    if decimal_comma:
        notes.append("decimal commas read as decimal points")

    line_numbers = np.array([n for n, _ in lines[1:]])
    if observable in POSITIVE and np.any(values["y"] <= 0):
        i = int(np.argmax(values["y"] <= 0))
        raise DataError(f"{name}: line {line_numbers[i]}, column {columns['y']!r}: a {observable.replace('_', ' ')} "
                        f"must be > 0, got {values['y'][i]:g}")
    if np.any(np.abs(values["y"]) > ABSURD):
        i = int(np.argmax(np.abs(values["y"]) > ABSURD))
        raise DataError(f"{name}: line {line_numbers[i]}, column {columns['y']!r}: {values['y'][i]:g} is not a "
                        f"measured value (|y| > {ABSURD:g})")
    for role in [*independent, "sigma"]:
        if role in fixed:
            if not fixed[role] > 0:
                raise DataError(f"{name}: fixed {role} must be > 0 {unit[role][0]}, got {fixed[role]}")
            values[role] = np.full(len(rows), float(fixed[role]))
        elif role in values and np.any(values[role] <= 0):
            i = int(np.argmax(values[role] <= 0))
            raise DataError(f"{name}: line {line_numbers[i]}, column {columns[role]!r}: "
                            f"{role} must be > 0 {unit[role][0]}, got {values[role][i]:g}")
    converted = {}
    for role, (given, canonical, target) in unit.items():
        converted[role] = to_glassfit_unit(values[role], given)[0]
        if canonical != target:
            notes.append(f"{role} converted from {canonical} to {target}")
    if "sigma" in unit:
        sigma = error_to_glassfit_unit(values["sigma"], values["y"], unit["sigma"][0])
    elif without_sigma:
        sigma = None
        notes.append("no uncertainties: σ is fitted (noise model 'fitted' or 'absolute')")
    else:
        sigma = sigma_rel * np.abs(converted["y"])
        if np.any(sigma == 0):
            i = int(np.argmax(sigma == 0))
            raise DataError(f"{name}: line {line_numbers[i]}: y = 0, so sigma_rel·|y| = 0; give a 'sigma' column")
        notes.append(f"sigma = {sigma_rel:g} · |y| (the file gives no uncertainties)")

    keys = [converted[v] for v in independent]
    order = np.lexsort(keys[::-1])
    same = np.all([np.diff(k[order]) == 0 for k in keys], axis=0)
    if np.any(same):
        a, b = sorted(line_numbers[order][np.argmax(same):][:2])
        point = ", ".join(f"{v} = {converted[v][order][np.argmax(same)]:g} {unit[v][2]}" for v in independent)
        raise DataError(f"{name}: lines {a} and {b} repeat the same point ({point})")
    if np.any(order != np.arange(len(order))):
        notes.append(f"rows were not in increasing ({', '.join(independent)}) order and were sorted")
        log.info("%s: rows sorted by (%s)", name, ", ".join(independent))
    return Dataset(id=path.stem, observable=observable, x={v: converted[v][order] for v in independent},
                   y=converted["y"][order], sigma=None if sigma is None else sigma[order], y_unit=unit["y"][2],
                   source=name,
                   sha256=hashlib.sha256(raw).hexdigest(), notes=tuple(notes))


def check_against_model(dataset: Dataset, model, params=None) -> None:
    """DataError unless ``model`` can be fitted to ``dataset`` with ``params``.

    Checks that the independent variables are the model's, that the dataset's unit is the model's output,
    that there are more points than free parameters, and that every parameter value lies inside its bounds.
    ``params``: lmfit.Parameters (default ``model.make_params()``) or a mapping name -> value checked
    against the model's table (unknown names are an error).
    """
    card = card_of(model)
    name, output = card.name, card.output
    if tuple(dataset.x) != tuple(card.independent):
        raise DataError(f"{dataset.label}: independent variables ({', '.join(dataset.x)}) but model {name} "
                        f"takes ({', '.join(card.independent)})")
    if dataset.y_unit != output:
        _, have, _, _ = unit_info(dataset.y_unit)
        _, want, _, _ = unit_info(output)
        hint = f": build the model with output={dataset.y_unit!r}" if have == want else ""
        raise DataError(f"{dataset.label}: y is in {dataset.y_unit} but model {name} gives {output}{hint}")
    if params is None:
        params = model.make_params()
    if isinstance(params, Mapping) and not hasattr(params, "valuesdict"):
        table = {n: row for n, row in card.rows.items() if row.expr is None}
        for key, value in params.items():
            if key not in table:
                raise DataError(f"model {name} has no parameter {key!r}; it has {', '.join(table)}")
            lo, hi = table[key].bounds
            if not lo <= value <= hi:
                raise DataError(f"parameter {key} = {value:g} is outside its bounds [{lo:g}, {hi:g}]")
        params = model.make_params(**params)
    for p in params.values():
        if not p.min <= p.value <= p.max:
            raise DataError(f"parameter {p.name} = {p.value:g} is outside its bounds [{p.min:g}, {p.max:g}]")
    free = [p.name for p in params.values() if p.vary and not p.expr]
    if dataset.n <= len(free):
        raise DataError(f"{dataset.label}: {dataset.n} points for {len(free)} free parameters "
                        f"({', '.join(free)}); a fit needs more points than free parameters")


__all__ = ["OBSERVABLES", "VARIABLES", "DataError", "check_against_model", "read_table"]
