"""User data files: units, formats, and the bad-input catalogue (one readable DataError each)."""

import numpy as np
import pytest

from glassfit.constants import to_glassfit_unit, unit_info
from glassfit.dataset import Dataset
from glassfit.loading import DataError, check_against_model, read_table
from glassfit.models import (
    KKIAttenuationModel,
    KKIHeatCapacityModel,
    KKITimeHeatModel,
    KKIVelocityModel,
    STMConductivityModel,
    STMHeatCapacityModel,
)

HEAT = {"T": "Temp", "y": "C", "sigma": "dC"}


def write(tmp_path, text, name="data.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return path


@pytest.mark.parametrize(("unit", "target", "factor"), [
    ("mK", "K", 1e-3), ("kHz", "Hz", 1e3), ("rad/s", "Hz", 1 / (2 * np.pi)), ("min", "s", 60.0), ("ms", "s", 1e-3),
    ("erg/(g K)", "J/(g K)", 1e-7), ("mJ/(mol K)", "J/(mol K)", 1e-3), ("erg/(cm3 K)", "J/(m3 K)", 0.1),
    ("mW/(cm K)", "W/(m K)", 0.1), ("W/m/K", "W/(m K)", 1.0), ("μW/(cm·K)", "W/(m K)", 1e-4),
    ("dB/m", "1/m", np.log(10) / 10), ("Np/m", "1/m", 2.0), ("Q-1", "Q^-1", 1.0), ("ppm", "1", 1e-6),
])
def test_unit_conversions(unit, target, factor):
    values, got = to_glassfit_unit([1.0, 2.0], unit)
    assert got == target and values == pytest.approx([factor, 2 * factor])


def test_one_decibel_per_metre_is_ln10_over_20_nepers_of_amplitude():
    # l⁻¹ (energy attenuation, the models' "1/m") is twice the amplitude attenuation α [Np/m]
    assert to_glassfit_unit(1.0, "dB/m")[0] / 2 == pytest.approx(np.log(10) / 20)
    with pytest.raises(ValueError, match="unknown unit 'furlong'"):
        unit_info("furlong")


def test_mk_and_cgs_heat_capacity_are_converted(tmp_path):
    path = write(tmp_path, "# my run\nTemp,C,dC\n100,2.0,0.1\n50,1.0,0.05\n")
    data = read_table(path, "heat_capacity", HEAT, {"T": "mK", "y": "erg/(g K)"})
    assert isinstance(data, Dataset) and data.id == "data" and data.nature == "measured"
    assert data.x["T"] == pytest.approx([0.05, 0.1]) and data.y == pytest.approx([1e-7, 2e-7])
    assert data.sigma == pytest.approx([5e-9, 1e-8]) and data.y_unit == "J/(g K)"
    assert "T converted from mK to K" in data.notes and "y converted from erg/(g K) to J/(g K)" in data.notes
    assert any("sorted" in note for note in data.notes)                     # unsorted: accepted, sorted, noted
    assert data.label == "data"


@pytest.mark.parametrize(("text", "encoding"), [
    ("Temp;C;dC\n0,05;1,5e-3;1e-4\n0,1;3,0e-3;2e-4\n", "utf-8"),            # Excel, decimal commas
    ("\ufeffTemp,C,dC\r\n0.05,1.5e-3,1e-4\r\n0.1,3.0e-3,2e-4\r\n", "utf-8"),  # Excel "CSV UTF-8": BOM, CRLF
    ("Temp\tC\tdC\n0.05\t1.5e-3\t1e-4\n0.1\t3.0e-3\t2e-4\n", "utf-16"),      # Excel "Unicode text"
    ("Temp  C   dC\n0.05  1.5e-3  1e-4\n  0.1  3.0e-3  2e-4\n", "utf-8"),    # whitespace-aligned
    ("Temp,C,dC\n0.05,1.5e-3,1e-4\n0.1,3.0e-3,2e-4\n# µ-comment\n", "cp1252"),
])
def test_spreadsheet_exports(tmp_path, text, encoding):
    data = read_table(write(tmp_path, text, encoding=encoding), "heat_capacity", HEAT, {"y": "J/(mol K)"})
    assert data.x["T"] == pytest.approx([0.05, 0.1]) and data.y == pytest.approx([1.5e-3, 3e-3])
    assert data.y_unit == "J/(mol K)"


def test_attenuation_at_a_fixed_frequency_in_db_with_relative_sigma(tmp_path):
    path = write(tmp_path, "T/K alpha/(dB/m)\n0.5 10\n1.0 20\n", "run.txt")
    data = read_table(path, "attenuation", {"T": "T/K", "y": "alpha/(dB/m)"}, {"f": "MHz", "y": "dB/m"},
                      fixed={"f": 330.0}, sigma_rel=0.05)
    assert list(data.x) == ["f", "T"] and data.x["f"] == pytest.approx([3.3e8, 3.3e8])
    assert data.y == pytest.approx(np.log(10) / 10 * np.array([10.0, 20.0])) and data.y_unit == "1/m"
    assert data.sigma == pytest.approx(0.05 * data.y) and any("0.05 · |y|" in note for note in data.notes)


def test_time_dependent_heat_capacity_sorted_by_t_within_t(tmp_path):
    path = write(tmp_path, "T,t,c,s\n0.2,10,2,0.1\n0.1,100,1.2,0.1\n0.1,0.1,1,0.1\n")
    data = read_table(path, "time_heat", {"T": "T", "t": "t", "y": "c", "sigma": "s"}, {"t": "ms", "y": "uJ/(g K)"})
    assert data.x["T"] == pytest.approx([0.1, 0.1, 0.2]) and data.x["t"] == pytest.approx([1e-4, 0.1, 0.01])
    assert data.y == pytest.approx([1e-6, 1.2e-6, 2e-6])


GOOD = "Temp,C,dC\n0.1,1e-6,1e-8\n0.2,2e-6,2e-8\n0.3,3e-6,3e-8\n"


@pytest.mark.parametrize(("text", "kwargs", "message"), [
    ("", {}, "data.csv: empty file"),
    ("# only a comment\n\n", {}, "data.csv: empty file"),
    ("Temp,C,dC\n", {}, "data.csv: no data rows under the header line"),
    ("Temp\tC\tdC\n0.1\t1e-6\t1e-8\n", {"delimiter": ","},
     "data.csv: no column 'Temp' for T; the columns are 'Temp\\tC\\tdC' (one column found with delimiter ','"),
    ("T,C,dC\n0.1,1e-6,1e-8\n", {}, "data.csv: no column 'Temp' for T; the columns are 'T', 'C', 'dC'"),
    (GOOD, {"columns": {"T": "Temp", "sigma": "dC"}}, "data.csv: columns must name the column of y"),
    (GOOD, {"columns": {"T": "Temp", "y": "C", "sigma": "dC", "f": "F"}}, "columns has ['f']"),
    ("Temp,C,dC\n0.1,1e-6,1e-8\n0.2,abc,2e-8\n", {}, "data.csv: line 3, column 'C': not a number: 'abc'"),
    ("Temp,C,dC\n0.1,1e-6,1e-8\n0.2,,2e-8\n", {}, "data.csv: line 3, column 'C': empty cell"),
    ("Temp,C,dC\n0.1,1e-6\n", {}, "data.csv: line 2, column 'dC': missing cell"),
    ("Temp,C,dC\n0.1,nan,1e-8\n", {}, "line 2, column 'C': y is nan; NaN and infinite values are not data"),
    ("Temp,C,dC\n0.1,1e-6,inf\n", {}, "line 2, column 'dC': sigma is inf; NaN and infinite"),
    ("Temp,C,dC\n0.1,1e-6,1e-8\n\n# x\n-0.1,2e-6,1e-8\n", {},
     "data.csv: line 5, column 'Temp': T must be > 0 K, got -0.1"),
    ("Temp,C,dC\n0.1,1e-6,1e-8\n0.2,2e-6,0\n", {}, "data.csv: line 3, column 'dC': sigma must be > 0"),
    ("Temp,C,dC\n0.1,0,1e-8\n", {"columns": {"T": "Temp", "y": "C"}, "sigma_rel": 0.03},
     "data.csv: line 2, column 'C': a heat capacity must be > 0, got 0"),
    ("Temp,C,dC\n0.1,-3e-6,1e-8\n0.2,2e-6,1e-8\n", {}, "line 2, column 'C': a heat capacity must be > 0, got -3e-06"),
    ("Temp,C,dC\n0.1,1e308,1e300\n0.2,2e-6,1e-8\n", {}, "line 2, column 'C': 1e+308 is not a measured value"),
    ('Temp,C,dC\n0.1,1e-6,1e-8\n"0.2,2e-6,1e-8\n0.3,3e-6,1e-8\n', {},
     "line 3 cannot be read as ','-separated cells (unexpected end of data)"),
    ("Temp,C,dC\n0.1,1e-6,1e-8\n0.2," + "9" * 140000 + ",1e-8\n", {},
     "line 3 cannot be read as ','-separated cells (field larger than field limit (131072))"),
    ("Temp,C,dC\n0.1,1e-6,1e-8\n0.2,2e-6,1e-8\n0.1,3e-6,1e-8\n", {},
     "data.csv: lines 2 and 4 repeat the same point (T = 0.1 K)"),
    (GOOD, {"units": {"y": "J/(lb K)"}}, "data.csv: y: unknown unit 'J/(lb K)'; known units: K, mK"),
    (GOOD, {"units": {"T": "Hz", "y": "J/(g K)"}}, "unit 'Hz' of T is a frequency unit, not a temperature unit"),
    (GOOD, {"units": {"y": "W/(m K)"}}, "unit 'W/(m K)' of y is a conductivity unit, not a heat capacity unit"),
    (GOOD, {"units": {"y": "J/(g K)", "sigma": "J/(mol K)"}}, "sigma in J/(mol K) cannot be compared with y"),
    (GOOD, {"units": {"T": "K"}}, "data.csv: give the unit of y"),
    (GOOD, {"units": {"y": "J/(g K)", "f": "Hz"}}, "units given for ['f']"),
    (GOOD, {"sigma_rel": 0.03}, "give either a 'sigma' column or sigma_rel (e.g. 0.03), not both"),
    (GOOD, {"columns": {"T": "Temp", "y": "C"}}, "neither was given"),
    (GOOD, {"columns": {"T": "Temp", "y": "C"}, "sigma_rel": -1.0}, "sigma_rel must be > 0"),
    (GOOD, {"fixed": {"t": 1.0}}, "fixed ['t'] are not independent variables of heat_capacity"),
    (GOOD, {"observable": "entropy"}, "unknown observable 'entropy'"),
    (b"PK\x03\x04\x00\x00binary", {}, "data.csv: a binary file, not a text table"),
    (b"Temp,C,dC\n0.1,1e-6,1e-8\n\x81\x8d\x8f\x90\x9d", {}, "not a text file"),
])
def test_bad_input_gives_one_readable_line(tmp_path, text, kwargs, message):
    args = {"observable": "heat_capacity", "columns": HEAT, "units": {"y": "J/(g K)"}} | kwargs
    with pytest.raises(DataError) as info:
        read_table(write(tmp_path, text), **args)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(DataError, match=r"nope\.csv: no such file"):
        read_table(tmp_path / "nope.csv", "heat_capacity", HEAT, {"y": "J/(g K)"})
    with pytest.raises(DataError, match="not a file"):
        read_table(tmp_path, "heat_capacity", HEAT, {"y": "J/(g K)"})


def test_fixed_variable_must_be_positive(tmp_path):
    path = write(tmp_path, "T,Q\n0.1,1e-4\n")
    with pytest.raises(DataError, match="fixed f must be > 0 kHz, got 0"):
        read_table(path, "attenuation", {"T": "T", "y": "Q"}, {"f": "kHz", "y": "Q^-1"}, fixed={"f": 0},
                   sigma_rel=0.03)


def dataset(observable="heat_capacity", n=5, y_unit="J/(g K)", x=("T",)):
    grid = {name: np.linspace(0.1, 1.0, n) for name in x}
    return Dataset(grid, np.ones(n), np.full(n, 0.1), id="d", observable=observable, y_unit=y_unit)


KAPPA = dataset("conductivity", y_unit="W/(m K)")


def test_check_against_model_accepts_a_matching_pair():
    check_against_model(dataset(), STMHeatCapacityModel())
    check_against_model(dataset("velocity", 10, x=("f", "T"), y_unit="1"), KKIVelocityModel())
    check_against_model(dataset("time_heat", 20, x=("T", "t")), KKITimeHeatModel(), {"log10_N": 28.0})


@pytest.mark.parametrize(("data", "model", "params", "message"), [
    (dataset(), KKIAttenuationModel(), None, "d: independent variables (T) but model kki_attenuation takes (f, T)"),
    (dataset(y_unit="J/(mol K)"), STMHeatCapacityModel(), None,
     "d: y is in J/(mol K) but model stm_heat_capacity gives J/(g K): build the model with output='J/(mol K)'"),
    (dataset("conductivity", y_unit="W/(m K)"), STMHeatCapacityModel(), None,
     "y is in W/(m K) but model stm_heat_capacity gives J/(g K)"),
    (dataset("attenuation", x=("f", "T"), y_unit="1/m"), KKIAttenuationModel(), None,
     "gives Q^-1: build the model with output='1/m'"),
    (dataset(n=3), KKIHeatCapacityModel(), None,
     "d: 3 points for 3 free parameters (eta_c, xi_c, log10_N); a fit needs more points than free parameters"),
    (KAPPA, STMConductivityModel(), {"C": 500.0}, "parameter C = 500 is outside its bounds [0.01, 100]"),
    (KAPPA, STMConductivityModel(), {"Cee": 1.0}, "model stm_conductivity has no parameter 'Cee'; it has C,"),
])
def test_check_against_model_refuses(data, model, params, message):
    with pytest.raises(DataError) as info:
        check_against_model(data, model, params)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_check_against_model_counts_free_lmfit_parameters():
    model = KKIHeatCapacityModel()
    params = model.make_params()
    params["eta_c"].set(vary=False)
    params["xi_c"].set(expr="eta_c")
    check_against_model(dataset(n=2), model, params)                    # one free parameter, two points


def test_ragged_rows_and_repeated_header_names_are_refused(tmp_path):
    # decimal commas in a comma-separated file split each number in two: the rows get more cells than the header
    ragged = write(tmp_path, "Temp,C,dC\n50,5,5,050e-05,1\n60,6,1\n70,7,1\n")
    with pytest.raises(DataError, match="line 2 has 5 cells, the header 3: a ragged table"):
        read_table(ragged, "heat_capacity", HEAT, {"y": "J/(g K)"})
    repeated = write(tmp_path, "Temp,Temp,dC\n1,2,3\n2,3,4\n3,4,5\n", name="dup.csv")
    with pytest.raises(DataError, match="the header names 'Temp' more than once"):
        read_table(repeated, "heat_capacity", {"T": "Temp", "y": "Temp", "sigma": "dC"}, {"y": "J/(g K)"})
    trailing = write(tmp_path, "Temp,C,dC\n0.1,5,1,\n0.2,6,1,\n0.3,7,1,\n", name="trailing.csv")
    assert read_table(trailing, "heat_capacity", HEAT, {"y": "J/(g K)"}).n == 3      # empty trailing cells are fine
