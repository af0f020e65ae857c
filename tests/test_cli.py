"""The `glassfit` command line and the workflow behind it: outputs, resume, and the bad-input catalogue
(each case one readable line on stderr and exit code 2)."""

import json
import os
import subprocess
import sys
from importlib.metadata import version

import numpy as np
import pytest

from glassfit import datasets
from glassfit.cli import main
from glassfit.workflow import RunSpec, build, compare, fit, load_spec

STM_DATA = "synthetic-stm-heat-capacity"


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(capsys, *argv, match):
    code, _, err = run_cli(capsys, *argv)
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert match in lines[0], lines[0]
    return lines[0]


def test_version_loads_no_heavy_module():
    # what makes `glassfit --version` (and every bad-input refusal) fast: the parser imports none of these
    probe = ("import sys\nfrom glassfit.cli import main\ntry:\n    main(['--version'])\nexcept SystemExit:\n    pass\n"
             "print(','.join(m for m in ('lmfit', 'emcee', 'scipy', 'matplotlib', 'h5py', 'pandas')"
             " if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    version, heavy = out.stdout.split("\n")[:2]
    assert version.startswith("glassfit ") and heavy == ""


def test_datasets_and_models_listing(capsys):
    code, out, _ = run_cli(capsys, "datasets", "list")
    assert code == 0 and "stycast-1266" in out and "synthetic" in out
    code, out, _ = run_cli(capsys, "datasets", "show", STM_DATA)
    assert code == 0 and "synthetic" in out.lower()
    code, out, _ = run_cli(capsys, "models")
    assert code == 0 and "kki_time_heat" in out
    code, out, _ = run_cli(capsys, "models", "kki_conductivity")
    assert code == 0 and "chi_1" in out and "eV" in out


def test_leastsq_fit_recovers_the_synthetic_truth(tmp_path, capsys):
    code, _, _ = run_cli(capsys, "--quiet", "fit", STM_DATA, "--model", "stm", "--method", "leastsq",
                         "--out", str(tmp_path / "ls"))
    assert code == 0
    summary = json.loads((tmp_path / "ls" / "summary.json").read_text())
    (row,) = summary["parameters"]
    truth = datasets.entry(STM_DATA).true_params["P0"]
    assert abs(row["value"] - truth) < 3 * row["stderr"]
    assert 0.5 < summary["redchi"] < 2.0
    report = (tmp_path / "ls" / "report.md").read_text()
    assert "SYNTHETIC" in report and "glassfit --quiet fit synthetic-stm-heat-capacity --model stm" in report
    assert (tmp_path / "ls" / "fit.png").stat().st_size > 10_000


def test_emcee_run_files_plot_report_and_resume(tmp_path, capsys):
    out = tmp_path / "mc"
    args = ["--quiet", "fit", STM_DATA, "--model", "stm", "--steps", "300", "--no-until-converged", "--out", str(out)]
    assert run_cli(capsys, *args)[0] == 0
    for name in ("run.json", "summary.json", "chain.h5", "fit.png", "corner.png", "trace.png", "report.md"):
        assert (out / name).is_file(), name
    summary = json.loads((out / "summary.json").read_text())
    assert summary["chain"]["nsteps"] == 300 and summary["method"] == "emcee"
    (out / "fit.png").unlink()
    assert run_cli(capsys, "plot", str(out))[0] == 0 and (out / "fit.png").is_file()
    (out / "report.md").unlink()
    assert run_cli(capsys, "report", str(out))[0] == 0 and "Convergence" in (out / "report.md").read_text()
    # the same run twice without --resume is refused; with it, the chain grows to the new total
    one_line_error(capsys, *args, match="--resume")
    assert run_cli(capsys, *args[:-3], "--steps", "400", "--no-until-converged", "--resume", "--out", str(out))[0] == 0
    assert json.loads((out / "summary.json").read_text())["chain"]["nsteps"] == 400


def test_resume_of_a_corrupt_or_foreign_chain(tmp_path, capsys):
    out = tmp_path / "bad"
    out.mkdir()
    (out / "chain.h5").write_bytes(b"not an HDF5 file")
    one_line_error(capsys, "fit", STM_DATA, "--model", "stm", "--steps", "50", "--resume", "--out", str(out),
                   match="chain")
    good = tmp_path / "good"
    assert main(["--quiet", "fit", STM_DATA, "--model", "stm", "--steps", "50", "--out", str(good)]) == 0
    capsys.readouterr()
    one_line_error(capsys, "fit", "synthetic-kki-heat-capacity", "--model", "stm", "--steps", "60", "--resume",
                   "--chain", str(good / "chain.h5"), "--out", str(tmp_path / "other"), match="another posterior")


@pytest.mark.parametrize(("argv", "match"), [
    (["fit", "no-such-dataset"], "neither a catalogued dataset"),
    (["fit", STM_DATA, "--model", "stm", "--set", "nonsense=1"], "unknown parameter 'nonsense' in --set"),
    (["fit", STM_DATA, "--model", "stm", "--prior", "Q=normal(1, 2)"], "unknown parameter 'Q' in --prior"),
    (["fit", STM_DATA, "--model", "stm", "--prior", "P0=gauss(1, 2)"], "cannot read the prior"),
    (["fit", STM_DATA, "--model", "stm", "--set", "P0=1e9"], "outside its bounds"),
    (["fit", STM_DATA, "--model", "stm", "--set", "P0=abc"], "must be a number"),
    (["fit", STM_DATA, "--model", "nosuchmodel"], "unknown model"),
    (["fit", STM_DATA, "--model", "kki_conductivity"], "conductivity"),
    (["fit", STM_DATA, "--model", "stm", "--fix", "P0"], "no free parameters"),
    (["datasets", "show"], "needs a dataset id"),
    (["models", "nope"], "unknown model"),
    (["plot", "/nonexistent/run"], "not a glassfit run directory"),
])
def test_bad_inputs_give_one_line_and_exit_2(tmp_path, capsys, argv, match):
    if argv[0] == "fit":
        argv = [*argv, "--out", str(tmp_path / "run")]
    one_line_error(capsys, *argv, match=match)


def test_user_files_need_a_column_mapping_and_valid_cells(tmp_path, capsys):
    path = tmp_path / "mine.csv"
    read = ["--observable", "heat_capacity", "--columns", "T=Temp,y=C", "--sigma-rel", "0.02",
            "--out", str(tmp_path / "r")]
    path.write_text("Temp,C\n0.1,2e-7\n0.2,4e-7\n")
    one_line_error(capsys, "fit", str(path), "--out", str(tmp_path / "r"), match="--columns")
    one_line_error(capsys, "fit", str(path), *read, "--units", "T=furlong,y=J/(g K)", match="furlong")
    one_line_error(capsys, "fit", str(path), *read, "--units", "T=K,y=J/(g K)", match="more points than free")
    path.write_text("Temp,C\n0.1,2e-7\n0.2,nan\n0.3,6e-7\n")
    one_line_error(capsys, "fit", str(path), *read, "--units", "T=K,y=J/(g K)", match="line 3")


def test_sha256_mismatch_of_a_data_file(tmp_path, monkeypatch, capsys):
    rel = datasets.entry("stycast-1266").file
    copy = tmp_path / rel
    copy.parent.mkdir(parents=True)
    copy.write_text("tampered\n")
    monkeypatch.setenv("GLASSFIT_DATA_DIR", str(tmp_path))
    one_line_error(capsys, "fit", "stycast-1266", "--method", "leastsq", "--out", str(tmp_path / "r"),
                   match="sha256")


def test_a_chain_belongs_to_one_posterior():
    from glassfit.sampling import fingerprint

    def of(**kwargs):
        return fingerprint(build(RunSpec(("synthetic-kki-heat-capacity",), fixed=("xi_c",), **kwargs)).objective)

    base = of(values={"xi_c": 1.2})
    assert base == of(values={"xi_c": 1.2})
    assert base != of(values={"xi_c": 0.5})                                   # another fixed value
    assert base != of(values={"xi_c": 1.2}, priors={"eta_c": "uniform(0.1, 2)"})   # another prior
    assert base != of(values={"xi_c": 1.2}, noise="scaled")


def test_compare_prefers_the_generating_law():
    result = compare(RunSpec(("synthetic-kki-heat-capacity",), values={"xi_c": 1.2}, fixed=("xi_c",)))
    rows = result.criteria
    assert result.loo is None and result.runs == {}
    assert rows[0].name == "kki" and rows[1].delta_bic > 100


@pytest.mark.slow
def test_compare_with_posteriors_adds_psis_loo(tmp_path, capsys):
    code, out, _ = run_cli(capsys, "--quiet", "compare", STM_DATA, "--method", "emcee", "--steps", "400",
                           "--no-until-converged", "--set", "xi_c=1.2", "--fix", "xi_c", "--out", str(tmp_path))
    assert code == 0 and "Δelpd_loo" in out
    assert (tmp_path / "kki" / "report.md").is_file() and (tmp_path / "stm" / "chain.h5").is_file()


def test_compare_by_nested_sampling_tabulates_ln_z_bayes_factors_and_prior_sensitivity(tmp_path, capsys):
    argv = ["--quiet", "compare", STM_DATA, "--method", "nested", "--nlive", "40", "--set", "xi_c=1.2", "--fix",
            "xi_c", "--set", "eta_c=0.8", "--fix", "eta_c", "--out", str(tmp_path)]
    code, out, err = run_cli(capsys, *argv)
    assert code == 0, err
    assert "ln B = ln Z_best − ln Z" in out and "ln B(kki : stm) with one prior's width scaled" in out
    assert "Δelpd_loo" in out                              # PSIS-LOO from the nested posterior draws
    doc = json.loads((tmp_path / "evidence.json").read_text())
    rows = {r["name"]: r for r in doc["evidence"]}
    assert set(rows) == {"kki", "stm"} and rows["stm"]["log_b"] == 0.0 < rows["kki"]["log_b"]  # STM data
    assert doc["runs"]["kki"]["names"] == ["log10_N"] and doc["runs"]["kki"]["n_live"] == 40
    assert doc["versions"]["dynesty"] == version("dynesty")
    assert {(r["parameter"], r["factor"]) for r in doc["sensitivity"]} == {("log10_N", 2.0), ("log10_N", 0.5),
                                                                          ("P0", 2.0), ("P0", 0.5)}
    assert (tmp_path / "kki" / "nested.pkl").is_file() and (tmp_path / "stm" / "nested.pkl.json").is_file()
    code, again, _ = run_cli(capsys, *argv, "--resume", "--no-sensitivity")      # the finished runs, read back
    assert code == 0 and "width scaled" not in again
    resumed = json.loads((tmp_path / "evidence.json").read_text())
    assert [(r["name"], r["log_z"]) for r in resumed["evidence"]] == [(r["name"], r["log_z"]) for r in doc["evidence"]]
    one_line_error(capsys, *argv[1:5], "--nlive", "3", match="nlive must be an integer ≥ 8, got 3")
    one_line_error(capsys, "compare", STM_DATA, "--resume",
                   match="--resume continues nested runs: give --method nested")


def test_joint_fit_shares_parameters_by_name(tmp_path):
    spec = RunSpec(("synthetic-kki-heat-capacity", "synthetic-kki-conductivity"), "kki", method="leastsq",
                   fixed=("eta_c", "xi_c", "chi_2", "log10_A_R"),
                   values={"eta_c": 0.8, "xi_c": 1.2, "chi_2": 0.49, "log10_A_R": -45.0})
    problem = build(spec)
    assert problem.objective.names == ["log10_N", "chi_1"]
    run = fit(spec, tmp_path / "joint", quiet=True)
    values = {r["name"]: r for r in run.summary["parameters"]}
    for name, truth in (("log10_N", 27.78), ("chi_1", 0.49)):
        assert abs(values[name]["value"] - truth) < 4 * values[name]["stderr"] + 1e-3 * abs(truth), name
    assert (tmp_path / "joint" / "fit-synthetic-kki-conductivity.png").is_file()
    assert np.isfinite(run.summary["bic"])


@pytest.mark.skipif(not os.environ.get("GLASSFIT_DATA_DIR"),
                    reason="GLASSFIT_DATA_DIR is not set (CI sets it to ../shared/datasets)")
def test_log_sampling_turns_a_lognormal_prior_into_a_normal_one():
    spec = RunSpec(("stycast-1266",), "stm", method="leastsq", log=("C", "v_l"), ties={"v_t": "0.5*v_l"},
                   priors={"v_l": "lognormal(3000, 0.4)"})
    objective = build(spec).objective
    assert objective.names == ["log10_A_R", "ln_C", "ln_v_l"]
    prior = objective.priors["ln_v_l"]
    assert (prior.mu, prior.sd) == (pytest.approx(np.log(3000.0)), 0.4)
    assert objective.units()["ln_v_l"] == "ln(m s^-1)"
    values = objective.values(objective.named([-41.0, np.log(4.0), np.log(3000.0)]))
    assert values["v_l"] == pytest.approx(3000.0) and values["v_t"] == pytest.approx(1500.0)
    assert values["C"] == pytest.approx(4.0)
    with pytest.raises(ValueError, match="loguniform"):
        build(RunSpec(("stycast-1266",), "stm", log=("v_l",), priors={"v_l": "normal(3000, 300)"}))


@pytest.mark.parametrize(("steps", "until", "verdict"), [(200, "--no-until-converged", False),
                                                          (4000, "--until-converged", True)])
def test_one_definition_of_converged(tmp_path, capsys, steps, until, verdict):
    # the sampler's verdict (N ≥ 50 τ and τ stable to 1 %) is the one the CLI, summary.json and report.md state
    out = tmp_path / "c"
    code, stdout, _ = run_cli(capsys, "fit", STM_DATA, "--model", "stm", "--steps", str(steps), until,
                              "--out", str(out))
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["chain"]["converged"] is verdict
    assert ("NOT converged" in stdout) is not verdict
    report = (out / "report.md").read_text()
    assert ("τ stable to 1% at the sampler's last check): **yes**" in report) is verdict
    rows = [r for r in summary["parameters"] if r["n_over_tau"] is not None]
    assert (min(r["n_over_tau"] for r in rows) >= 50) or not verdict


def test_leastsq_report_states_search_identifiability_and_noise(tmp_path, capsys):
    out = tmp_path / "k"
    code, _, _ = run_cli(capsys, "--quiet", "fit", "synthetic-kki-conductivity", "--method", "leastsq",
                         "--tie", "chi_2=chi_1", "--fix", "log10_A_R", "--starts", "4", "--out", str(out))
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["search"]["method"] == "multistart" and summary["search"]["n_optima"] >= 1
    assert summary["errors"].endswith("errors are not rescaled by χ²_ν")
    rows = {r["name"]: r for r in summary["constraints"]}
    # κ(T) alone: l⁻¹ ∝ N χ² exactly, so N and χ₁ are each set only with their priors
    assert rows["log10_N"]["set_by"] != "data" and rows["chi_1"]["set_by"] != "data"
    assert summary["directions"][-1]["s"] < 1e-6 * summary["directions"][0]["s"]
    derived = {r["name"]: r for r in summary["derived"]}
    assert {"C_eff", "mu", "double_well_fraction"} <= set(derived)
    assert derived["C_eff"]["error"] < 0.1 * derived["C_eff"]["value"]
    report = (out / "report.md").read_text()
    for heading in ("## Global search", "## What the data constrain", "## Constrained combinations"):
        assert heading in report


def test_heat_capacity_at_a_measurement_time(tmp_path, capsys):
    # c(T) of the synthetic glass fitted as measured at t_exp = 1 s: the STM then follows Black's law, whose P̄
    # is smaller than the equilibrium one (Black's c grows as ln t and exceeds the t → ∞ c of a flat P̄ at 1 s)
    at_1s = cli_fit_summary(tmp_path / "t", capsys, STM_DATA, "--model", "stm", "--t-exp", "1")
    equilibrium = cli_fit_summary(tmp_path / "eq", capsys, STM_DATA, "--model", "stm")
    p_1s, p_eq = ({r["name"]: r["value"] for r in s["parameters"]}["P0"] for s in (at_1s, equilibrium))
    assert p_1s < 0.5 * p_eq
    spec, _ = load_spec(tmp_path / "t")
    assert spec.t_exp == 1.0 and "--t-exp 1" in (tmp_path / "t" / "report.md").read_text()
    one_line_error(capsys, "fit", "synthetic-kki-conductivity", "--t-exp", "1", match="measurement time of a heat")
    one_line_error(capsys, "fit", STM_DATA, "--t-exp", "-1", match="--t-exp must be a positive time")


def cli_fit_summary(out, capsys, *args):
    assert main(["--quiet", "fit", *args, "--method", "leastsq", "--out", str(out)]) == 0
    capsys.readouterr()
    return json.loads((out / "summary.json").read_text())


@pytest.mark.parametrize(("argv", "match"), [
    (["fit", STM_DATA, "--model", "stm", "--processes", "1000"], "--processes must be between 1 and the"),
    (["fit", STM_DATA, "--model", "stm", "--steps", "0"], "--steps must be an integer ≥ 1, got 0"),
    (["fit", STM_DATA, "--model", "stm", "--walkers", "7"], "--walkers must be an even number"),
    (["fit", STM_DATA, "--model", "stm", "--prior", "P0=gauss(1, 2)"], "--prior P0=gauss(1, 2): cannot read"),
    (["fit", STM_DATA, "--model", "stm", "--method", "leastsq", "--search", "none", "--set", "P0=1e-4",
      "--prior", "P0=uniform(1, 2)"],
     "the start value P0 = 0.0001 (prior support [1, 2]) lies outside its prior"),
])
def test_messages_name_the_option(tmp_path, capsys, argv, match):
    one_line_error(capsys, *argv, "--out", str(tmp_path / "m"), match=match)


def test_chain_message_names_the_chain_option_and_quiet_works_after_the_subcommand(tmp_path, capsys):
    chain = tmp_path / "elsewhere.h5"
    args = ["fit", STM_DATA, "--model", "stm", "--steps", "100", "--no-until-converged", "--chain", str(chain)]
    assert main([*args, "--out", str(tmp_path / "a"), "--quiet"]) == 0
    out, err = capsys.readouterr()
    assert out == "" and err == ""
    one_line_error(capsys, *args, "--out", str(tmp_path / "b"), match="or choose another --chain")


def test_a_closed_pipe_is_not_a_traceback():
    result = subprocess.run(f"{sys.executable} -m glassfit datasets list | head -n 1", shell=True,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "Traceback" not in result.stderr and result.stdout.count("\n") == 1


def test_reports_state_fixed_values_goodness_of_fit_and_print_resolution(tmp_path, capsys):
    from PIL import Image

    poor = cli_fit_summary(tmp_path / "stm", capsys, "synthetic-kki-heat-capacity", "--model", "stm")
    good = cli_fit_summary(tmp_path / "kki", capsys, "synthetic-kki-heat-capacity", "--set", "xi_c=1.2",
                           "--fix", "xi_c")
    assert poor["p_value"] < 1e-100 and 0.05 < good["p_value"] < 1.0
    poor_report, good_report = ((tmp_path / d / "report.md").read_text() for d in ("stm", "kki"))
    assert "**a poor fit**" in poor_report and "poor fit" not in good_report
    assert "  - fixed: xi_c = 1.2, w = 22.6 K, eta_L = 0.0442" in good_report
    with Image.open(tmp_path / "kki" / "fit.png") as image:
        assert image.info["dpi"] == pytest.approx((200, 200), abs=0.5)


def test_demo_runs_say_how_to_reproduce_the_fit_itself(tmp_path):
    from glassfit.workflow import demo

    out = demo(tmp_path / "d", quiet=True, steps_scale=0.05)
    report = (out / "kki-heat-capacity" / "report.md").read_text()
    assert "glassfit fit synthetic-kki-heat-capacity --model kki --method emcee" in report
    index = (out / "README.md").read_text()
    assert "stm | 424 | " in index and "**poor fit**" in index.split("stm-heat-capacity")[2]


def test_two_files_of_one_name_in_different_folders_are_two_datasets(tmp_path, capsys):
    from glassfit.datasets import load

    d = load(STM_DATA)
    for folder, scale in (("run-a", 1.0), ("run-b", 1.02)):
        (tmp_path / folder).mkdir()
        rows = "\n".join(f"{t:.9e},{y * scale:.9e},{s:.9e}" for t, y, s in zip(d.x["T"], d.y, d.sigma, strict=True))
        (tmp_path / folder / "c.csv").write_text("T,C,dC\n" + rows + "\n")
    files = [str(tmp_path / f / "c.csv") for f in ("run-a", "run-b")]
    opts = ["--observable", "heat_capacity", "--columns", "T=T,y=C,sigma=dC", "--units", "y=J/(g K)"]
    spec = _spec_for(files, opts)
    assert [x.id for x in build(spec).datasets] == ["run-a-c", "run-b-c"]
    one_line_error(capsys, "fit", files[0], files[0], *opts, "--model", "stm", "--out", str(tmp_path / "o"),
                   match="the same dataset is given twice")


def _spec_for(files, opts):
    from glassfit import cli

    return cli.run_spec(cli.parser().parse_args(["fit", *files, *opts, "--model", "stm"]))


def test_a_joint_fit_of_two_user_files_with_their_own_options(tmp_path, capsys):
    from glassfit.datasets import load

    for name, source, header in (("c.csv", "synthetic-kki-heat-capacity", "T,C,dC"),
                                 ("k.csv", "synthetic-kki-conductivity", "Temp_mK,K,dK")):
        d = load(source)
        scale = 1e3 if "mK" in header else 1.0
        rows = "\n".join(f"{t * scale:.9e},{y:.9e},{s:.9e}" for t, y, s in zip(d.x["T"], d.y, d.sigma, strict=True))
        (tmp_path / name).write_text(header + "\n" + rows + "\n")
    files = [str(tmp_path / "c.csv"), str(tmp_path / "k.csv")]
    options = ["--observable", "heat_capacity", "--observable", "conductivity",
               "--columns", "T=T,y=C,sigma=dC", "--columns", "T=Temp_mK,y=K,sigma=dK",
               "--units", "y=J/(g K)", "--units", "T=mK,y=W/(m K)"]
    out = tmp_path / "joint"
    assert main(["--quiet", "fit", *files, *options, "--tie", "chi_2=chi_1", "--fix", "log10_A_R", "--method",
                 "leastsq", "--search", "none", "--out", str(out)]) == 0
    capsys.readouterr()
    summary = json.loads((out / "summary.json").read_text())
    assert [d["name"] for d in summary["datasets"]] == ["c", "k"] and summary["redchi"] < 2.0
    spec, _ = load_spec(out)
    assert spec.read[1] == {"observable": "conductivity", "columns": {"T": "Temp_mK", "y": "K", "sigma": "dK"},
                            "units": {"T": "mK", "y": "W/(m K)"}}
    assert main(["report", str(out)]) == 0
    capsys.readouterr()
    one_line_error(capsys, "fit", *files, *options, "--units", "y=J/(g K)", "--out", str(tmp_path / "x"),
                   match="once per data file, in the order of the 2 files; got 2 × --observable, 2 × --columns, "
                         "3 × --units")


def test_fit_prints_the_goodness_of_fit_and_every_warning(tmp_path, capsys):
    code, out, _ = run_cli(capsys, "fit", "synthetic-kki-heat-capacity", "--model", "stm", "--method", "leastsq",
                           "--prior", "P0=uniform(0.001, 0.002)", "--out", str(tmp_path / "w"))
    assert code == 0
    assert "a poor fit: the model does not describe these data" in out and "**" not in out
    assert "warning: P0 = 0.002 is on the upper edge of its prior support [0.001, 0.002]" in out


def test_plot_and_report_follow_one_rule_when_the_data_changed(tmp_path, capsys):
    from glassfit.datasets import load

    d = load(STM_DATA)
    path = tmp_path / "c.csv"
    rows = "\n".join(f"{t:.9e},{y:.9e},{s:.9e}" for t, y, s in zip(d.x["T"], d.y, d.sigma, strict=True))
    path.write_text("T,C,dC\n" + rows + "\n")
    out = tmp_path / "r"
    opts = ["--observable", "heat_capacity", "--columns", "T=T,y=C,sigma=dC", "--units", "y=J/(g K)"]
    assert main(["--quiet", "fit", str(path), *opts, "--model", "stm", "--method", "leastsq", "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["report", str(out)]) == 0 and main(["plot", str(out)]) == 0
    capsys.readouterr()
    path.write_text("T,C,dC\n" + rows.replace("e-0", "1e-0", 1) + "\n")
    for command in ("report", "plot"):
        one_line_error(capsys, command, str(out), match="changed since it was fitted (c: sha256 differs")


def test_no_progress_frames_when_stderr_is_not_a_terminal(tmp_path, capsys):
    code, _, err = run_cli(capsys, "fit", STM_DATA, "--model", "stm", "--steps", "300", "--no-until-converged",
                           "--out", str(tmp_path / "p"))
    assert code == 0 and "it/s" not in err and "\r" not in err


def test_a_bad_file_is_refused_before_the_models_load(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("T,C,dC\n0.1,1e-6,1e-8\n0.2,-2e-6,1e-8\n")
    code = ("import sys; from glassfit.cli import main; "
            f"rc = main(['fit', {str(bad)!r}, '--observable', 'heat_capacity', '--columns', 'T=T,y=C,sigma=dC', "
            "'--units', 'y=J/(g K)']); print(rc, 'lmfit' in sys.modules, 'glassfit.models' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.stdout.split() == ["2", "False", "False"], result.stderr
    assert "a heat capacity must be > 0" in result.stderr


def test_heat_release_file_is_read_and_fitted(tmp_path, capsys):
    """Q̇(t) after a quench 0.3 K → 0.1 K, SYNTHETIC from the STM in nW/g: the file's units and the three
    independent variables reach the model, and the fit returns the generating P̄."""
    from glassfit.models import BlackHeatReleaseModel

    model = BlackHeatReleaseModel()
    t = np.geomspace(10, 1e4, 12)
    y = model.eval(model.make_params(P0=1.7), t=t, T=np.full(12, 0.1), T1=np.full(12, 0.3)) * 1e9
    lines = ["t_s,T_K,T1_K,Q,dQ"] + [f"{a:.17g},0.1,0.3,{b:.17g},{0.02 * b:.17g}" for a, b in zip(t, y, strict=True)]
    (tmp_path / "release.csv").write_text("\n".join(lines) + "\n")
    assert main(["fit", str(tmp_path / "release.csv"), "--observable", "heat_release", "--columns",
                 "t=t_s,T=T_K,T1=T1_K,y=Q,sigma=dQ", "--units", "y=nW/g", "--model", "stm", "--fix", "gamma_l",
                 "--fix", "gamma_t", "--method", "leastsq", "--out", str(tmp_path / "run"), "--quiet"]) == 0
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    (p0,) = summary["parameters"]
    assert p0["name"] == "P0" and p0["value"] == pytest.approx(1.7, rel=1e-8)
    assert p0["stderr"] == pytest.approx(0.02 * 1.7 / np.sqrt(12), rel=1e-3)    # 2 % per point, 12 points, Q̇ ∝ P̄
