"""Superconducting-resonator data: the Nb CPW set of the catalog read as published, the reciprocal unit Q, row
selection and stated constant columns, the fitted-σ noise models, windows, and the fits through the command line."""

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from glassfit import datasets
from glassfit.cli import main
from glassfit.dataset import Dataset
from glassfit.loading import DataError, read_table
from glassfit.models import STMResonatorLossModel, STMResonatorShiftModel
from glassfit.objective import Objective

SHARED = os.environ.get("GLASSFIT_DATA_DIR")
needs_data = pytest.mark.skipif(not SHARED, reason="GLASSFIT_DATA_DIR is not set (CI sets it to ../shared/datasets)")
NB_LOSS = [f"nb-cpw-loss-{p}dbm" for p in (80, 100, 120, 140, 160)]
#: the upstream fit script's photon numbers (cpwfit/models/qint_allcurves_semilog.py, NBAR_BY_POWER)
NBAR = {80: 1.45466e8, 100: 1.43609e6, 120: 1.41391e4, 140: 138.34, 160: 1.35032}


def one_line_error(capsys, *argv, match):
    code = main(list(argv))
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert match in err, err


@needs_data
def test_nb_loss_files_read_as_published():
    for power, n_bar in NBAR.items():
        data = datasets.load(f"nb-cpw-loss-{power}dbm")
        assert data.n == 17 and data.sigma is None and data.y_unit == "1/Q" and tuple(data.x) == ("f", "T", "n")
        assert np.all(data.x["f"] == 5.619901372e9) and np.all(data.x["n"] == n_bar)
        assert data.x["T"][0] == pytest.approx(0.1) and data.x["T"][-1] == pytest.approx(1.7)
    # 80dBm.csv line 2: "100;-80;1,58E+07": decimal comma, Q_int → loss 1/Q_int
    first = datasets.load("nb-cpw-loss-80dbm")
    assert first.y[0] == 1 / 1.58e7 and "y converted from Q to 1/Q" in first.notes
    shift = datasets.load("nb-cpw-frequency-shift")                    # UTF-8 BOM, CRLF, 0 at 100 mK
    assert shift.y[0] == 0.0 and shift.y[1] == pytest.approx(1.11e-7) and shift.sigma is None
    assert "sigma       none given" in datasets.show_dataset("nb-cpw-frequency-shift")


@needs_data
def test_the_power_column_must_agree_with_the_stated_power(tmp_path):
    # 160dBm.csv's power column reads −140 (an upstream labelling slip): stating −160 is an error naming the line
    source = Path(SHARED) / datasets.entry("nb-cpw-loss-160dbm").local_path
    read = dict(columns={"T": "Temperatur (mK)", "y": "Qint"}, units={"T": "mK", "y": "Q"},
                fixed={"f": 5.6e9, "n": 1.35}, without_sigma=True)
    with pytest.raises(DataError, match=r"160dBm.csv: line 2, column 'Power \(dBm\)' reads '-140' but the file is "
                                        r"stated to be at Power \(dBm\) = -160"):
        read_table(source, "loss", constant={"Power (dBm)": -160}, **read)
    assert read_table(source, "loss", constant={"Power (dBm)": -140}, **read).n == 17
    copy = tmp_path / "80dBm.csv"
    shutil.copy(Path(SHARED) / datasets.entry("nb-cpw-loss-80dbm").local_path, copy)
    text = copy.read_text().replace("1200;-80;", "1200;-90;")
    copy.write_text(text)
    with pytest.raises(DataError, match="line 13, column 'Power \\(dBm\\)' reads '-90'"):
        read_table(copy, "loss", constant={"Power (dBm)": -80}, **read)


def test_quality_factors_and_their_errors_become_losses(tmp_path):
    path = tmp_path / "q.csv"
    path.write_text("series,T,Q,dQ\nA,0.1,2e5,4e3\nB,0.1,1e6,1e4\nA,0.2,2.5e5,5e3\n")
    data = read_table(path, "loss", {"T": "T", "y": "Q", "sigma": "dQ"}, {"y": "Q"}, fixed={"f": 5e9, "n": 10.0},
                      select={"series": "A"})
    np.testing.assert_array_equal(data.y, [1 / 2e5, 1 / 2.5e5])
    np.testing.assert_allclose(data.sigma, [4e3 / 2e5**2, 5e3 / 2.5e5**2], rtol=1e-15)     # σ_Q/Q²
    with pytest.raises(DataError, match="no row has series = 'C'"):
        read_table(path, "loss", {"T": "T", "y": "Q", "sigma": "dQ"}, {"y": "Q"}, fixed={"f": 5e9, "n": 10.0},
                   select={"series": "C"})
    with pytest.raises(DataError, match="no column 'resonator' for select resonator"):
        read_table(path, "loss", {"T": "T", "y": "Q", "sigma": "dQ"}, {"y": "Q"}, fixed={"f": 5e9, "n": 10.0},
                   select={"resonator": "A"})
    with pytest.raises(DataError, match="neither was given \\(or fit σ with --noise fitted or --noise absolute\\)"):
        read_table(path, "loss", {"T": "T", "y": "Q"}, {"y": "Q"}, fixed={"f": 5e9, "n": 10.0})
    with pytest.raises(DataError, match="a loss must be > 0"):
        path.write_text("T,Q\n0.1,-2e5\n0.2,3e5\n")
        read_table(path, "loss", {"T": "T", "y": "Q"}, {"y": "Q"}, fixed={"f": 5e9, "n": 10.0}, without_sigma=True)


def test_absolute_noise_is_one_fitted_sigma_for_every_point():
    model = STMResonatorShiftModel()
    x = {"f": np.full(6, 5e9), "T": np.geomspace(0.05, 1.0, 6)}
    y = model.eval(model.make_params(), **x)
    data = Dataset(x, y, None, id="shift")
    objective = Objective(model, data, noise="absolute")
    assert objective.names == ["Fdelta0", "df0", "sigma_frac[shift]"]
    theta = objective.theta()
    assert theta[-1] == 0.01
    np.testing.assert_allclose(objective.sigma(objective.named(theta)), 0.01 * np.ptp(y), rtol=1e-15)
    # the exact model, σ = 1 % of the range everywhere: ln L = −n ln s − (n/2) ln 2π
    s = 0.01 * np.ptp(y)
    assert objective.logl(theta) == pytest.approx(-6 * np.log(s) - 3 * np.log(2 * np.pi), rel=1e-12)
    with pytest.raises(ValueError, match="needs sigma in the data, which gives none; fit σ with noise 'fitted'"):
        Objective(model, data, noise="known")
    with pytest.raises(ValueError, match="which has zeros \\(use 'absolute'\\)"):
        Objective(model, Dataset(x, y - y[0], None, id="zero"), noise="fitted")


def test_loss_model_of_three_variables_in_a_dataset():
    model = STMResonatorLossModel()
    x = {"f": np.full(4, 5e9), "T": np.full(4, 0.05), "n": np.array([1.0, 1e2, 1e4, 1e6])}
    y = model.eval(model.make_params(), **x)
    assert np.all(np.diff(y) < 0)                                     # saturation: less loss at more photons
    assert Objective(model, Dataset(x, y, 1e-8, id="l"), noise="known").logl([1.0, 1e3, 0.01]) > 0


@needs_data
def test_fit_the_nb_shift_from_the_command_line(tmp_path, capsys):
    out = tmp_path / "shift"
    code = main(["--quiet", "fit", "nb-cpw-frequency-shift", "--model", "stm", "--method", "leastsq", "--noise",
                 "absolute", "--window", "T=0.1:1.1", "--out", str(out)])
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())
    values = {p["name"]: p for p in summary["parameters"]}
    # the shared datasets README's check: a digamma fit below 1.1 K gives F δ⁰ ≈ 1.35e-6
    assert values["Fdelta0"]["value"] == pytest.approx(1.3455, abs=2e-3)
    assert values["Fdelta0"]["stderr"] == pytest.approx(0.10, abs=0.01)
    assert summary["datasets"][0]["points"] == 11                        # 6 points above 1.1 K left out
    # σ fitted: at the MAP s² = RSS/n, so χ² = n and −2 ln L = n [ln(2π s²) + 1]; AIC, BIC from −2 ln L
    n, s = 11, values["sigma_frac[nb-cpw-frequency-shift]"]["value"] * np.ptp(datasets.load(
        "nb-cpw-frequency-shift").y[:11])
    assert summary["chisqr"] == pytest.approx(n, rel=1e-5)
    assert summary["deviance"] == pytest.approx(n * (np.log(2 * np.pi * s**2) + 1), rel=1e-6)
    assert summary["aic"] == pytest.approx(summary["deviance"] + 6, rel=1e-12)
    assert "window T ∈ [0.1, 1.1]: 6 of 17 points left out" in (out / "report.md").read_text()


@needs_data
def test_joint_fit_of_the_nb_loss_and_shift_shares_fdelta0(tmp_path):
    out = tmp_path / "joint"
    code = main(["--quiet", "fit", *NB_LOSS, "nb-cpw-frequency-shift", "--model", "stm", "--method", "leastsq",
                 "--noise", "fitted", "--noise-of", "nb-cpw-frequency-shift=absolute", "--window", "T=0.1:1.1",
                 "--out", str(out)])
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())
    names = [p["name"] for p in summary["parameters"]]
    assert names.count("Fdelta0") == 1 and "sigma_frac[nb-cpw-frequency-shift]" in names
    assert sum(n.startswith("sigma_rel[") for n in names) == 5
    assert (out / "fit-nb-cpw-loss-160dbm.png").is_file()


@needs_data
def test_resonator_bad_inputs_are_one_line(tmp_path, capsys):
    common = ["fit", "nb-cpw-frequency-shift", "--model", "stm", "--method", "leastsq", "--out", str(tmp_path / "r")]
    one_line_error(capsys, *common, match="needs sigma in the data, which gives none")
    one_line_error(capsys, *common, "--noise", "fitted", match="which has zeros (use 'absolute')")
    one_line_error(capsys, *common, "--noise", "absolute", "--window", "T=2:3", match="--window keeps 0 of its 17")
    one_line_error(capsys, *common, "--noise", "absolute", "--window", "T=1", match="give LO:HI")
    one_line_error(capsys, *common, "--noise", "absolute", "--noise-of", "nope=fitted",
                   match="--noise-of nope: no such dataset")
    one_line_error(capsys, *common, "--noise", "absolute", "--noise-of", "nb-cpw-frequency-shift=loud",
                   match="the noise model must be one of")


def test_the_photon_number_of_the_derived_table():
    # n = 2 Q_l² P/(Q_c ħ ω²) (Bruno et al. 2015), P the VNA power: RES-1 at −10 dBm, 0.100 K, from the row's own
    # f0, Q_i, Q_c; and one hand-computed case: Q_l = 1e4, Q_c = 2e4, −100 dBm, 5 GHz → 9608 photons
    import csv

    from scipy import constants as sc

    lines = datasets.fetch("nbn-res1-loss").read_text().splitlines()
    rows = list(csv.DictReader(line for line in lines if not line.startswith("#")))
    row = next(r for r in rows if r["series"] == "RES-1@-10dBm" and r["T_K"] == "0.100")
    qi, qc, f0 = float(row["Qi"]), float(row["Qc"]), float(row["f0_Hz"])
    q_l = 1 / (1 / qi + 1 / qc)
    assert float(row["n_0dB"]) == pytest.approx(2 * q_l**2 * 1e-4 / (qc * sc.hbar * (2 * np.pi * f0) ** 2), rel=1e-9)
    assert 2 * 1e4**2 * 1e-13 / (2e4 * sc.hbar * (2 * np.pi * 5e9) ** 2) == pytest.approx(9608, rel=1e-3)
    data = datasets.load("nbn-res1-loss")
    assert data.n == 255 and data.nature == "derived" and np.unique(data.x["f"]).size == 1
    assert any("DERIVED by datasets/reduce_resonators.py" in note for note in data.notes)
    assert data.label == "nbn-res1-loss (derived)"                      # in plot titles and report headings


def test_a_fit_figure_with_a_photon_number_per_point_colours_the_points():
    from glassfit.plotting import MAX_CURVES, plot_best_fit

    model = STMResonatorLossModel()
    T = np.tile(np.geomspace(0.05, 0.5, 6), 5)
    n = np.geomspace(1.0, 1e6, T.size)                 # every point its own n, as Q_l moves it
    x = {"f": np.full(T.size, 5e9), "T": T, "n": n}
    data = Dataset(x, model.eval(model.make_params(), **x), None, id="loss", observable="loss", y_unit="1/Q")
    objective = Objective(model, data, noise="fitted")
    assert T.size > MAX_CURVES
    fig = plot_best_fit(objective.theta(), objective)
    top, residuals, colourbar = fig.axes
    assert colourbar.get_ylabel() == "n (photons)" and len(top.get_legend().get_texts()) == 2
    assert len(residuals.collections) == 1                                # one residual per point, coloured
