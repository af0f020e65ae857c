"""Parameter expressions are data, not programs (glassfit.expressions; --tie in fits and re-evaluations)."""

import json

import pytest

from glassfit.cli import main
from glassfit.expressions import MAX_LENGTH, checked

NAMES = {"v_l", "v_t", "chi_1", "chi_2", "log10_N"}


@pytest.mark.parametrize(("text", "normalised"), [
    ("0.5*v_l", "0.5 * v_l"), ("chi_1", "chi_1"), ("10**log10_N", "10.0 ** log10_N"),
    ("sqrt(chi_1**2 + chi_2**2) / 2", "sqrt(chi_1 ** 2.0 + chi_2 ** 2.0) / 2.0"), ("-exp(log(v_l))*pi", None),
])
def test_allowed_expressions_are_normalised(text, normalised):
    out = checked("v_t", text, NAMES)
    assert out == (normalised or out) and "v_t" not in out


@pytest.mark.parametrize(("text", "reason"), [
    ("v_t", "cannot be tied to itself"),
    ("2*v_t + v_l", "cannot be tied to itself"),
    ("foo", "'foo' is not a parameter"),
    ("__import__('os').system('echo x')", "only the functions"),
    ("len(open('/etc/passwd').read())", "only the functions"),
    ("loadtxt('data.csv')", "only the functions"),
    ("fromfile('x')", "only the functions"),
    ("v_l.__class__", "Attribute is not allowed"),
    ("[1] * 10", "List is not allowed"),
    ("'a' * 10", "is not a number"),
    ("(lambda: 1)()", "only the functions"),
    ("9**9**9", "overflows"),
    ("v_l if v_l else 1", "IfExp is not allowed"),
    ("v_l % 2", "operator Mod is not allowed"),
    ("exp(v_l, 2)", "takes exactly one argument"),
    ("exp(x=v_l)", "takes exactly one argument"),
    ("0.5*", "not a valid expression"),
    ("", "the expression is empty"),
    ("True * v_l", "is not a number"),
    ("+".join(["v_l"] * 40), "syntax elements"),
])
def test_everything_else_is_refused_in_one_line(text, reason):
    with pytest.raises(ValueError, match=reason) as info:
        checked("v_t", text, NAMES)
    assert "\n" not in str(info.value)


def test_length_limit():
    with pytest.raises(ValueError, match=f"more than {MAX_LENGTH}"):
        checked("v_t", "v_l" + " " * MAX_LENGTH, NAMES)


def one_line_exit_2(capsys, *argv, match):
    assert main(list(argv)) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and match in err, err


@pytest.mark.parametrize(("tie", "match"), [
    ("v_t=v_t", "cannot be tied to itself"), ("v_t=foo", "'foo' is not a parameter"),
    ("v_t=__import__('os').getcwd()", "only the functions"), ("v_t=9**9**9", "overflows"),
    ("v_t=v_l**1e10", "cannot be evaluated at the start values"),
])
def test_cli_refuses_bad_ties(tmp_path, capsys, tie, match):
    one_line_exit_2(capsys, "fit", "synthetic-kki-conductivity", "--method", "leastsq", "--search", "none",
                    "--tie", tie, "--out", str(tmp_path / "r"), match=match)


def test_a_shared_run_directory_cannot_make_report_read_files(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["--quiet", "fit", "synthetic-kki-conductivity", "--method", "leastsq", "--search", "none",
                 "--tie", "v_t=0.5*v_l", "--out", str(out)]) == 0
    capsys.readouterr()
    secret = tmp_path / "secret.txt"
    secret.write_text("12345")
    doc = json.loads((out / "run.json").read_text())
    doc["spec"]["ties"]["v_t"] = f"0.5*v_l + len(open({str(secret)!r}).read())"
    (out / "run.json").write_text(json.dumps(doc))
    for command in ("report", "plot"):
        one_line_exit_2(capsys, command, str(out), match="only the functions")


@pytest.mark.parametrize(("options", "match"), [
    (["--tie", "v_t=0.5*v_l", "--prior", "v_t=normal(3000, 10)"], "--prior v_t=… would be ignored: v_t is tied"),
    (["--fix", "v_l", "--prior", "v_l=lognormal(3000, 0.4)"], "--prior v_l=… and --fix v_l contradict"),
])
def test_a_prior_on_a_tied_or_fixed_parameter_is_refused(tmp_path, capsys, options, match):
    one_line_exit_2(capsys, "fit", "synthetic-kki-conductivity", "--method", "leastsq", *options,
                    "--out", str(tmp_path / "r"), match=match)
