"""The generic model: an :class:`lmfit.Model` declared by an executable parameter table.

A model is a table of rows (:class:`glassfit.contract.ParameterSpec`: name, unit, default, bounds, LaTeX label,
description; the shared rows are in :mod:`glassfit.models.rows`) and a kernel in SI units.  One evaluation:

1. lmfit hands over the independent variables (T [K], f [Hz], t [s]) and one value per row, in the row's unit;
2. :meth:`GlassModel.si` converts every row with ``row.to_si(value)``, keyed by ``row.si`` (P̄ → J⁻¹ m⁻³,
   w → J, log10_N → N [m⁻³], χ → J, ...), and forms the model's :class:`ScaledInput` keywords (products of
   table values taken before the conversion, such as the transverse couplings);
3. the model's :meth:`~GlassModel.kernel` computes the observable in SI units from those keywords;
4. :meth:`~GlassModel.output_from_si` converts the result to the model's ``output`` unit (heat capacity per
   volume → per gram or per mole; l⁻¹ → Q⁻¹ or dB/m).

The table (and the derived rows, e.g. N = 10**log10_N) also make the model's :class:`~glassfit.contract.ModelCard`,
from which the lmfit hints are set; the default priors, the units of reports, corner labels and the command-line
help read the same rows.
"""

from __future__ import annotations

import inspect
from typing import NamedTuple

import lmfit
import numpy as np

from glassfit.batching import batch_shape
from glassfit.contract import ModelCard, ParameterSpec
from glassfit.validation import inputs_trusted, positive_array, trusted_inputs


class ScaledInput(NamedTuple):
    """A kernel keyword ``si`` formed in table units before the conversion: the value of the dimensionless row named
    ``factor`` times the value of ``row``, converted with ``row``'s unit — e.g. the transverse coupling
    χ_1t = (χ_t/χ_l) χ_1 [eV] → J."""

    si: str
    row: ParameterSpec
    factor: str

    def to_si(self, values):
        """The SI value from parameter ``values`` in table units."""
        return self.row.to_si(values[self.factor] * values[self.row.name])


class Reference(NamedTuple):
    """A reference case of a model, for the generic tests: parameter ``values`` in table units (the others at their
    defaults), one value of each independent variable ``x``, the ``expected`` model value, and the relative
    tolerance ``rtol`` the source of that number allows (each model states the source beside it)."""

    values: dict
    x: dict
    expected: float
    rtol: float = 1e-7


def as_values(params) -> dict:
    """Parameter values from lmfit.Parameters or a mapping (name → value in table units)."""
    return params.valuesdict() if hasattr(params, "valuesdict") else dict(params)


def si_values(rows, values) -> dict:
    """The SI value of each row of ``rows`` whose name is in ``values`` (table units), keyed by ``row.si``."""
    return {row.si: row.to_si(values[row.name]) for row in rows if row.name in values}


def shared_or_batch(value):
    """A batch's values of one row: a float where every set has the same (the kernels then evaluate what depends on
    it once for the batch), else the array (P,)."""
    value = np.asarray(value, dtype=float)
    return float(value.flat[0]) if value.size and np.all(value == value.flat[0]) else value


def least_squares(columns, target) -> np.ndarray:
    """Coefficients of the linear least-squares fit of ``target`` by a combination of ``columns`` (arrays of its
    shape)."""
    return np.linalg.lstsq(np.stack(columns, axis=1), target, rcond=None)[0]


class _TableFunction:
    """The model function handed to lmfit: ``f(<independent variables>, <one argument per table row>)``.

    lmfit reads parameter names from the signature, so it is built from the table; a class rather
    than a closure keeps models picklable (process pools).
    """

    def __init__(self, model, names):
        self.model = model
        self.__name__ = model.name_id
        self.arguments = [*model.independent, *names]
        kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
        self.__signature__ = inspect.Signature([inspect.Parameter(n, kind) for n in self.arguments])

    def __call__(self, *args, **kwargs):
        return self.model.evaluate_table(dict(zip(self.arguments, args, strict=False)) | kwargs)


class GlassModel(lmfit.Model):
    """An lmfit.Model of the independent variables ``independent`` built from a parameter table.

    Subclasses set ``name_id``, ``independent``, ``output``, ``physics_table`` (the physics rows; the
    constructor adds the phonon, unit or mechanism rows its options need) and ``derived_rows``, and define
    :meth:`kernel` (SI in, SI out) and, where the output is not SI, :meth:`output_from_si`.  ``guess`` sets the
    amplitudes a subclass's :meth:`guess_amplitudes` can find from the data.
    """

    name_id: str = ""
    #: independent variables, in the order the model function takes them
    independent: tuple[str, ...] = ("T",)
    #: unit of the model's values ("1": dimensionless)
    output: str = "1"
    #: parameters of the model proper (the physics), before the phonon, unit and mechanism rows
    physics_table: tuple[ParameterSpec, ...] = ()
    #: derived (expression) rows reported with the fit, e.g. N = 10**log10_N
    derived_rows: tuple[ParameterSpec, ...] = ()
    #: further kernel keywords formed from the table values (see :class:`ScaledInput`)
    scaled_inputs: tuple[ScaledInput, ...] = ()
    #: the row that sets the size of the tunnelling-state contribution, which ``guess`` estimates
    amplitude: str | None = None
    #: a reference case for the generic tests (see :class:`Reference`)
    reference: Reference | None = None
    #: the kernel evaluates a batch of parameter sets in one call (:mod:`glassfit.batching`; glassfit's models do,
    #: except where they say otherwise); if not (the default of a new subclass), :meth:`evaluate_batch` evaluates
    #: the sets one after another
    vectorised: bool = False

    def __init__(self, table, **kwargs):
        self.parameter_table = tuple(table)
        names = [spec.name for spec in self.parameter_table]
        super().__init__(_TableFunction(self, names), independent_vars=list(self.independent),
                         param_names=names, name=self.name_id, **kwargs)
        self.card = ModelCard(self.name_id, tuple(self.independent), str(self.output),
                              {row.name: row for row in (*self.parameter_table, *self.derived_rows)})
        for row in self.card.rows.values():
            if row.expr is None:
                self.set_param_hint(row.name, value=row.default, min=row.bounds[0], max=row.bounds[1],
                                    vary=row.vary)
            else:
                self.set_param_hint(row.name, expr=row.expr)

    # --- evaluation -------------------------------------------------------------------------------------------

    def si(self, values) -> dict:
        """The kernel's keywords from parameter ``values`` in table units: the SI value of every table row (keyed by
        ``row.si``) and of every scaled input."""
        si = {row.si: row.to_si(values[row.name]) for row in self.parameter_table}
        si.update((scaled.si, scaled.to_si(values)) for scaled in self.scaled_inputs)
        return si

    def evaluate_table(self, arguments: dict):
        """The model's value, in ``output`` units, at ``arguments``: the independent variables and one value per
        table row in its unit (what lmfit passes)."""
        x = {name: arguments[name] for name in self.independent}
        si = self.si(arguments)
        return self.output_from_si(self.kernel(**x, **si), x, si)

    def evaluate_batch(self, x: dict, values: dict) -> np.ndarray:
        """The model, in ``output`` units, for a batch of P parameter sets at the independent variables ``x`` (name →
        array of the points): shape (P, *points).

        ``values`` maps every table row's name to an array (P,) in the row's unit, or to a number shared by the
        batch.  One call of the kernel for all P (f(η, ξ) at the nodes, the splines and the T, ω, t integrals of every
        set at once; :mod:`glassfit.batching`) where the model is ``vectorised``, else one evaluation after another;
        either way row i equals the single evaluation at set i to rounding.  The values are checked
        (:meth:`check_batch`), except with trusted inputs (an objective, whose data were checked once); independent
        variables of different shapes (a grid and a number) are broadcast.
        """
        names = [row.name for row in self.parameter_table]
        missing = sorted(set(names) - set(values))
        if missing:
            raise ValueError(f"{self.name_id}: the batch lacks values of {missing}")
        size = batch_shape(*(values[n] for n in names)) or (1,)
        values = {n: shared_or_batch(values[n]) for n in names}
        x = dict(zip(self.independent, np.broadcast_arrays(*(np.asarray(x[n], dtype=float) for n in self.independent)),
                     strict=True))
        if not inputs_trusted():
            self.check_batch(x, values)
        with trusted_inputs():
            if not self.vectorised:
                return np.stack([self.evaluate_table(x | {n: v if np.ndim(v) == 0 else v[i] for n, v in values.items()})
                                 for i in range(size[0])])
            si = self.si(values)
            out = np.asarray(self.output_from_si(self.kernel(**x, **si), x, si), dtype=float)
        return np.array(np.broadcast_to(out, size + np.shape(x[self.independent[0]])))

    def check_batch(self, x: dict, values: dict) -> None:
        """ValueError unless the points ``x`` are finite and > 0 and every value of ``values`` (row name → array)
        is finite, and > 0 for the rows of positive quantities (lower bound > 0), as the single evaluation's physics
        checks them; the bounds themselves are the fit's business."""
        for name, points in x.items():
            positive_array(name, points)
        for row in self.parameter_table:
            value = values[row.name]
            if not np.all(np.isfinite(value)):
                raise ValueError(f"{self.name_id}: the values of {row.name} must be finite")
            if row.bounds[0] > 0 and np.any(np.asarray(value) <= 0):
                raise ValueError(f"{self.name_id}: the values of {row.name} must be > 0 ({row.unit})")

    def kernel(self, **arguments):
        """The observable in SI units from the independent variables and the SI values of the rows (keywords
        ``row.si``)."""
        raise NotImplementedError(f"{type(self).__name__} defines no kernel")

    def output_from_si(self, value, x: dict, si: dict):
        """``value`` of the kernel (SI) in the model's ``output`` unit; unchanged by default."""
        return value

    # --- the table ---------------------------------------------------------------------------------------------

    def spec(self, name: str) -> ParameterSpec:
        """The row of parameter ``name`` (table or derived)."""
        row = self.card.row(name)
        if row is None:
            raise KeyError(f"{self.name_id} has no parameter {name!r}; it has {list(self.card.rows)}")
        return row

    def random(self, rng=None) -> lmfit.Parameters:
        """Parameters with every varying one drawn inside its bounds (log-uniform where ``log_scale``)."""
        rng = np.random.default_rng(rng)
        params = self.make_params()
        for spec in self.parameter_table:
            if not spec.vary:
                continue
            lo, hi = spec.bounds
            if spec.log_scale:
                params[spec.name].set(value=float(np.exp(rng.uniform(np.log(lo), np.log(hi)))))
            else:
                params[spec.name].set(value=float(rng.uniform(lo, hi)))
        return params

    def fit(self, data, params=None, weights=None, *args, scale_covar=None, **kwargs):
        """:meth:`lmfit.Model.fit`, except that with ``weights`` (1/σ: the noise is known) the covariance is
        not rescaled by χ²_ν unless ``scale_covar=True`` is asked for; without weights it is (lmfit's default)."""
        scale_covar = weights is None if scale_covar is None else scale_covar
        return super().fit(data, params, weights, *args, scale_covar=scale_covar, **kwargs)

    # --- reporting -----------------------------------------------------------------------------------------------

    def derived_quantities(self, values: dict, x: dict) -> dict[str, tuple[float, str, str]]:
        """The parameter combinations the data constrain, at parameter ``values`` (table units) and the data's
        independent variables ``x`` (dict of arrays, e.g. {"T": T}): name → (value, unit, one-line description).
        None by default."""
        return {}

    def validity_warnings(self, values: dict, x: dict) -> list[str]:
        """One readable line per validity condition of the model that the data at ``x`` break, at parameter
        ``values`` (table units); none by default."""
        return []

    # --- starting values ---------------------------------------------------------------------------------------

    def guess(self, data, **kwargs) -> lmfit.Parameters:
        """Starting Parameters for ``data`` at the independent variables given as keywords (``T=...``, ``f=...``;
        lmfit's ``x=`` stands for the first): the defaults, with what :meth:`guess_amplitudes` estimates from the
        data; other keywords set values as in lmfit (``P0=2.0``)."""
        if "x" in kwargs and self.independent[0] not in kwargs:
            kwargs[self.independent[0]] = kwargs.pop("x")
        missing = [name for name in self.independent if kwargs.get(name) is None]
        if missing:
            wanted = ", ".join(f"{name}=..." for name in self.independent)
            raise ValueError(f"guess needs the independent variables {missing}: guess(data, {wanted})")
        x = {name: np.asarray(kwargs.pop(name), dtype=float) for name in self.independent}
        params = self.make_params()
        self.guess_amplitudes(np.asarray(data, dtype=float), x, params)
        return lmfit.models.update_param_vals(params, self.prefix, **kwargs)

    def guess_amplitudes(self, data: np.ndarray, x: dict, params: lmfit.Parameters) -> None:
        """Set in ``params`` the values ``data`` at ``x`` determine (a subclass's estimate)."""
        raise NotImplementedError(f"{self.name_id} has no guess: start from its defaults or from model.random()")

    def table_values(self, params) -> dict:
        """The values of the table rows in ``params`` (the derived rows left out)."""
        return {row.name: params[row.name].value for row in self.parameter_table}

    def scale_at_median(self, data, x, params) -> None:
        """Set ``amplitude`` in ``params`` so that the model matches ``data`` above the background b at the point of
        median ``x`` of the first independent variable, for a model b + (part ∝ the amplitude's quantity; log10
        rows: ∝ 10**value), the other rows at their values in ``params``.  b is the model at the amplitude's lower
        bound (the phonons under the tunnelling states).  Left unchanged where model or data do not exceed b
        there; clipped to the bounds."""
        first = x[self.independent[0]]
        mid = np.argsort(first)[len(first) // 2]
        point = {k: v[mid:mid + 1] for k, v in x.items()}
        values = self.table_values(params)
        row = self.spec(self.amplitude)
        model_mid = self.eval(**point, **values)[0]
        base = self.eval(**point, **(values | {row.name: row.bounds[0]}))[0]
        data_mid = float(data[mid])
        if model_mid > base and data_mid > base:
            params[row.name].set(value=scaled(row, values[row.name], (data_mid - base) / (model_mid - base)))

    def scale_geometrically(self, data, x, params, power: float = 1.0) -> None:
        """Multiply the quantity of row ``amplitude`` in ``params`` by F^(1/power), F the geometric mean of data/model
        over the points where both are positive, the model at ``params``: the least-squares scale in ln y of a
        model ∝ amplitude^power, exact for one.  Clipped to the bounds."""
        values = self.table_values(params)
        shape = np.asarray(self.evaluate_table(x | values), float)
        both = (data > 0) & (shape > 0)
        if both.any():
            factor = float(np.exp(np.mean(np.log(data[both] / shape[both])) / power))
            params[self.amplitude].set(value=scaled(self.spec(self.amplitude), values[self.amplitude], factor))

    def scale_linearly(self, data, x, params, offset: str) -> None:
        """Set ``amplitude`` and the additive row ``offset`` in ``params`` by linear least squares of ``data`` on
        (the model at ``params`` with ``offset`` = 0, 1), for a model proportional to the amplitude plus the offset;
        the amplitude is left unchanged unless the fitted scale is positive.  The offset row's unit is a multiple of
        the output unit (``row.unit.scale``: ppm, 1e-6).  Clipped to the bounds."""
        values = self.table_values(params)
        shape = np.asarray(self.evaluate_table(x | values | {offset: 0.0}), float)
        scale, constant = least_squares([shape, np.ones_like(shape)], data)
        if scale > 0:
            params[self.amplitude].set(value=scaled(self.spec(self.amplitude), values[self.amplitude], scale))
        row = self.spec(offset)                    # the constant is in output units, the row's value in its unit
        params[offset].set(value=float(np.clip(constant / row.unit.scale, *row.bounds)))


def scaled(row: ParameterSpec, value: float, factor: float) -> float:
    """``value`` of ``row`` with its quantity multiplied by ``factor`` (added log10 factor for log10 units),
    clipped to the row's bounds."""
    new = value + np.log10(factor) if getattr(row.unit, "log10", False) else value * factor
    return float(np.clip(new, *row.bounds))


__all__ = ["GlassModel", "Reference", "ScaledInput", "as_values", "least_squares", "scaled", "si_values"]
