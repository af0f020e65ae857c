"""Nested-sampling evidence (glassfit.evidence): prior transform and normalisation, closed-form ln Z of a
linear-Gaussian model, reweighting against the closed form, checkpoint/resume after SIGKILL, pools."""

import math
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from inference_toys import line_model, line_objective, run_until_killed
from scipy import stats

from glassfit import evidence
from glassfit.dataset import Dataset
from glassfit.objective import Objective
from glassfit.priors import LogNormal, LogUniform, Normal, ScipyPrior, TruncatedNormal, Uniform

X = np.linspace(0.0, 1.0, 20)
SIGMA = 0.1


def gaussian_line(mu=(0.5, 1.5), sd=(1.0, 2.0), seed=3):
    """A straight line a + b x with Normal priors on a and b, and its exact ln Z: with y = Xβ + ε, β ~ N(μ, Λ) and
    ε ~ N(0, σ²), the data are Gaussian with mean Xμ and covariance σ² I + X Λ Xᵀ."""
    y = 1.0 + 2.0 * X + SIGMA * np.random.default_rng(seed).normal(size=X.size)
    objective = Objective(line_model(-50, 50), Dataset({"x": X}, y, SIGMA, id="line"),
                          priors={"a": Normal(mu[0], sd[0]), "b": Normal(mu[1], sd[1])})
    return objective, exact_log_z(y, mu, sd)


def exact_log_z(y, mu, sd):
    design = np.column_stack([np.ones_like(X), X])
    cov = SIGMA**2 * np.eye(X.size) + design @ np.diag(np.square(sd)) @ design.T
    return float(stats.multivariate_normal(design @ np.asarray(mu), cov).logpdf(y))


class Serial:
    """A 'pool' mapping in this process: dynesty's queue of proposals without other processes."""

    map = staticmethod(map)


class Unnormalised(Uniform):
    def logp(self, x):
        return super().logp(x) + 1.0


PRIORS = [Uniform(-1, 3), LogUniform(1e-3, 10), Normal(2, 0.5), TruncatedNormal(1, 2, 0, 3), LogNormal(3000, 0.4),
          ScipyPrior(stats.gamma(2.0, scale=3.0))]


@pytest.mark.parametrize("prior", PRIORS, ids=lambda p: type(p).__name__)
def test_every_prior_form_is_a_normalised_density(prior):
    evidence.check_normalised(prior, "x")
    u = np.array([0.1, 0.5, 0.9])
    assert np.allclose(evidence.PriorTransform([prior] * 3)(u), prior.ppf(u), rtol=1e-14)


def test_an_unnormalised_prior_is_refused_by_name():
    with pytest.raises(ValueError, match=r"the prior of eta_c .* not a normalised density .*2\.718"):
        evidence.check_normalised(Unnormalised(0, 1), "eta_c")
    objective = line_objective()
    with pytest.raises(ValueError, match="the prior of b"):
        evidence.nested(objective, priors={"b": Unnormalised(-10, 10)}, nlive=50)


@pytest.mark.parametrize(("prior", "factor", "domain", "expected"), [
    (Uniform(0, 10), 0.5, (-np.inf, np.inf), Uniform(2.5, 7.5)),
    (Uniform(0, 10), 2.0, (0.0, np.inf), Uniform(0, 15)),
    (Uniform(0, 10), 2.0, (0.0, 10.0), Uniform(0, 10)),
    (LogUniform(1, 100), 2.0, (0.0, np.inf), LogUniform(0.1, 1000)),
    (LogUniform(1, 100), 0.5, (0.0, np.inf), LogUniform(10**0.5, 10**1.5)),
    (Normal(3, 2), 0.5, (-np.inf, np.inf), Normal(3, 1)),
    (LogNormal(3000, 0.4), 2.0, (0.0, np.inf), LogNormal(3000, 0.8)),
    (TruncatedNormal(1, 2, 0, 4), 2.0, (0.0, np.inf), TruncatedNormal(1, 4, 0, 6)),
])
def test_a_prior_width_scales_about_its_centre_in_its_own_coordinate(prior, factor, domain, expected):
    scaled = evidence.scaled_prior(prior, factor, domain)
    assert type(scaled) is type(expected)
    assert scaled.describe().keys() == expected.describe().keys()
    assert np.allclose([v for k, v in scaled.describe().items() if k != "kind"],
                       [v for k, v in expected.describe().items() if k != "kind"], rtol=1e-12)
    assert evidence.scaled_prior(ScipyPrior(stats.gamma(2.0)), 2.0) is None
    assert evidence.prior_text(Uniform(0.41250000000000003, 1.1375)) == "Uniform(0.4125, 1.137)"


def test_nested_runs_repeat_with_their_seed_and_the_pool_changes_nothing():
    objective = line_objective()
    a = evidence.nested(objective, nlive=60, seed=4, pool=Serial(), queue_size=2)
    b = evidence.nested(objective, nlive=60, seed=4, processes=2)
    with ProcessPoolExecutor(2) as executor:
        c = evidence.nested(objective, nlive=60, seed=4, pool=executor, queue_size=2)
    assert a.log_z == b.log_z == c.log_z and np.array_equal(a.samples, b.samples)
    assert np.array_equal(a.samples, c.samples) and a.n_calls == b.n_calls
    d = evidence.nested(objective, nlive=60, seed=5)
    assert d.log_z != a.log_z and abs(d.log_z - a.log_z) < 4 * math.hypot(a.log_z_err, d.log_z_err)
    assert np.isclose(np.exp(a.log_weights).sum(), 1.0) and a.posterior_draws(100).shape == (100, 2)
    assert a.record()["names"] == ["a", "b"] and "samples" not in a.record() and not a.capped
    capped = evidence.nested(objective, nlive=60, seed=4, maxcall=500)
    assert capped.capped and capped.n_calls >= 500 and capped.n_calls < a.n_calls


def test_reweighting_a_narrower_prior_gives_the_closed_form_change_of_ln_z():
    objective, exact = gaussian_line()
    run = evidence.nested(objective, nlive=200, seed=2)
    assert abs(run.log_z - exact) < 4 * run.log_z_err
    for name, sd in (("a", (0.5, 2.0)), ("b", (1.0, 1.0))):
        narrower = Normal(objective.priors[name].mu, objective.priors[name].sd / 2)
        log_z, mc, ess = evidence.reweighted(run, {name: narrower})
        change = exact_log_z(objective.data.y, (0.5, 1.5), sd) - exact
        assert 0 < mc < 0.05 and ess > 500
        assert abs((log_z - run.log_z) - change) < 4 * mc, name     # the same samples: far below ln Z's own error
    # a wider normal prior has unbounded weights π'/π (infinite variance), a uniform one reaches beyond the samples
    assert evidence.reweighted(run, {"a": Normal(0.5, 2.0)}) is None
    boxed = evidence.nested(objective, priors={"a": Uniform(-1, 3)}, nlive=40, seed=0)
    assert evidence.reweighted(boxed, {"a": Uniform(-2, 3)}) is None
    assert evidence.reweighted(boxed, {"a": Uniform(0, 2)}) is not None
    with pytest.raises(ValueError, match=r"priors given for \['c'\], not parameters of this run"):
        evidence.reweighted(run, {"c": Uniform(0, 1)})


def test_bayes_factors_are_against_the_best_model():
    def made(log_z, err):
        return evidence.Evidence(log_z, err, 1.0, 10, 5, 50, 0.1, False, 0, ("a",), {}, np.zeros((1, 1)), np.zeros(1))

    rows = evidence.bayes_factors({"kki": made(-10.0, 0.3), "stm": made(-4.0, 0.4)})
    assert [r.name for r in rows] == ["stm", "kki"]
    assert rows[0].log_b == 0.0 and rows[0].log_b_err == 0.0
    assert rows[1].log_b == 6.0 and np.isclose(rows[1].log_b_err, 0.5)
    with pytest.raises(ValueError, match="at least two"):
        evidence.bayes_factors({"kki": made(0, 1)})


def test_prior_sensitivity_reweights_inside_the_support_and_reruns_outside_it(tmp_path):
    objective, _ = gaussian_line()
    free = Objective(line_model(-10, 10), objective.data, priors={"a": Normal(0.5, 1.0), "b": Uniform(-5.0, 5.0)})
    params = line_model(-10, 10).make_params()
    params["a"].set(value=1.0, vary=False)
    held = Objective(line_model(-10, 10), objective.data, params=params, priors={"b": Uniform(-5.0, 5.0)})
    objectives = {"free": free, "held": held}
    runs = {name: evidence.nested(o, nlive=100, seed=1) for name, o in objectives.items()}
    rows = evidence.prior_sensitivity(objectives, runs, domains={"a": (-10.0, 10.0), "b": (-10.0, 10.0)},
                                      checkpoint_dir=tmp_path, nlive=100, seed=1)
    by = {(r.parameter, r.factor): r for r in rows}
    assert [(r.parameter, r.factor) for r in rows] == [("a", 2.0), ("a", 0.5), ("b", 2.0), ("b", 0.5)]
    base = runs["free"].log_z - runs["held"].log_z
    # a wider normal prior is run anew (unbounded weights), a narrower one reweighted; "held" has no a
    assert by["a", 2.0].method == "free: rerun, held: as sampled" and by["a", 2.0].priors == "Normal(0.5, 2)"
    assert by["a", 0.5].method == "free: reweighted, held: as sampled"
    assert by["b", 2.0].method == "free: rerun, held: rerun" and by["b", 2.0].priors == "Uniform(-10, 10)"
    assert (tmp_path / "free-b-x2.pkl").exists() and (tmp_path / "held-b-x2.pkl").exists()
    # b is fixed by the data well inside both supports: both models lose (gain) ln 2 when its width doubles (halves)
    assert abs(by["b", 2.0].log_b - base) < 3 * by["b", 2.0].log_b_err
    assert by["b", 0.5].method == "free: reweighted, held: reweighted" and abs(by["b", 0.5].log_b - base) < 0.02
    again = evidence.prior_sensitivity(objectives, runs, domains={"a": (-10.0, 10.0), "b": (-10.0, 10.0)},
                                       checkpoint_dir=tmp_path, resume=True, nlive=100, seed=1)
    assert again == rows                                   # the reruns read back from their checkpoints
    at_bounds = evidence.prior_sensitivity(objectives, runs, factors=(2.0,), domains={"b": (-5.0, 5.0)})
    assert at_bounds[1].method == "unchanged: at the model's bounds" and at_bounds[1].log_b == base
    with pytest.raises(ValueError, match="shared parameter a has different priors"):
        evidence.check_shared_priors({"free": free, "other": Objective(line_model(-10, 10), objective.data)})


def test_bad_nested_settings_and_checkpoints_give_one_line(tmp_path):
    objective = line_objective()
    with pytest.raises(ValueError, match="nlive must be an integer ≥ 6"):
        evidence.nested(objective, nlive=3)
    with pytest.raises(ValueError, match="not free parameters"):
        evidence.nested(objective, priors={"c": Uniform(0, 1)})
    with pytest.raises(ValueError, match="cannot resume: no checkpoint"):
        evidence.nested(objective, checkpoint=tmp_path / "none.pkl", resume=True)
    with pytest.raises(ValueError, match="either processes or pool"):
        evidence.nested(objective, processes=2, pool=Serial())
    path = tmp_path / "run.pkl"
    first = evidence.nested(objective, nlive=40, seed=1, checkpoint=path, checkpoint_every=0.0)
    assert path.exists() and Path(str(path) + ".json").exists()
    with pytest.raises(ValueError, match="already exists"):
        evidence.nested(objective, nlive=40, checkpoint=path)
    with pytest.raises(ValueError, match=r"another objective, priors or settings \(seed differ"):
        evidence.nested(objective, nlive=40, seed=2, checkpoint=path, resume=True)
    with pytest.raises(ValueError, match=r"\(queue_size differ; queue_size follows the processes\)"):
        evidence.nested(objective, nlive=40, seed=1, checkpoint=path, resume=True, processes=2)
    again = evidence.nested(objective, nlive=40, seed=1, checkpoint=path, resume=True)
    assert again.log_z == first.log_z and not again.capped      # a finished run resumes to itself
    cut = evidence.nested(objective, nlive=40, seed=1, checkpoint=tmp_path / "cut.pkl", maxcall=300)
    assert cut.capped and evidence.nested(objective, nlive=40, seed=1, checkpoint=tmp_path / "cut.pkl",
                                          resume=True).capped      # and a capped one stays marked
    path.write_bytes(path.read_bytes()[:1000])           # a checkpoint cut short
    with pytest.raises(ValueError, match=r"cannot resume from .*run\.pkl: not a readable dynesty checkpoint"):
        evidence.nested(objective, nlive=40, seed=1, checkpoint=path, resume=True)


KILLED_RUN = """
import os, signal, sys, threading, time
from pathlib import Path
from inference_toys import line_objective
from glassfit import evidence

def kill_after_a_checkpoint(path):     # SIGKILL once dynesty has written its second checkpoint (mid-run)
    while not Path(path).exists():
        time.sleep(0.01)
    first = Path(path).stat().st_mtime_ns
    while Path(path).stat().st_mtime_ns == first:
        time.sleep(0.01)
    os.kill(os.getpid(), signal.SIGKILL)

threading.Thread(target=kill_after_a_checkpoint, args=(sys.argv[1],), daemon=True).start()
evidence.nested(line_objective(), nlive=400, seed=9, checkpoint=sys.argv[1], checkpoint_every=0.2)
"""


@pytest.mark.slow
def test_a_killed_nested_run_resumes_to_the_uninterrupted_one(tmp_path):
    path = tmp_path / "killed.pkl"
    run_until_killed(tmp_path, KILLED_RUN, path)
    assert path.exists()
    resumed = evidence.nested(line_objective(), nlive=400, seed=9, checkpoint=path, resume=True)
    whole = evidence.nested(line_objective(), nlive=400, seed=9)
    assert resumed.log_z == whole.log_z and np.array_equal(resumed.samples, whole.samples)
    assert resumed.n_calls == whole.n_calls


@pytest.mark.slow
def test_ln_z_of_a_linear_gaussian_model_is_the_closed_form_within_0_2_nats():
    objective, exact = gaussian_line(mu=(0.0, 0.0), sd=(3.0, 3.0), seed=11)
    run = evidence.nested(objective, nlive=1000, seed=3)
    assert abs(run.log_z - exact) < 0.2, (run.log_z, run.log_z_err, exact)
    assert run.log_z_err < 0.15


@pytest.mark.slow
def test_ln_z_of_kki_and_stm_on_the_synthetic_heat_capacity_repeats_within_its_errors():
    from glassfit.workflow import RunSpec, build

    for family in ("kki", "stm"):
        spec = RunSpec(("synthetic-kki-heat-capacity",), family, method="leastsq",
                       values={"xi_c": 1.2} if family == "kki" else {}, fixed=("xi_c",) if family == "kki" else ())
        objective = build(spec).objective
        one, two = (evidence.nested(objective, nlive=200, seed=seed) for seed in (1, 2))
        assert one.log_z != two.log_z
        assert abs(one.log_z - two.log_z) < 3 * math.hypot(one.log_z_err, two.log_z_err), family
        assert 0.1 < one.log_z_err < 0.5
