import math

import numpy as np
import pytest
from scipy import integrate, stats

from glassfit.models import KKIHeatCapacityModel, STMHeatCapacityModel
from glassfit.priors import (
    LogUniform,
    Normal,
    ScipyPrior,
    TruncatedNormal,
    Uniform,
    as_prior,
    default_prior,
    default_priors,
)

CASES = [
    (Uniform(-1.0, 3.0), stats.uniform(-1.0, 4.0)),
    (LogUniform(1e-3, 1e2), stats.loguniform(1e-3, 1e2)),
    (Normal(0.5, 2.0), stats.norm(0.5, 2.0)),
    (TruncatedNormal(0.5, 2.0, 0.0, 1.0), stats.truncnorm(-0.25, 0.25, loc=0.5, scale=2.0)),
    (ScipyPrior(stats.gamma(2.0, scale=3.0)), stats.gamma(2.0, scale=3.0)),
]


@pytest.mark.parametrize(("prior", "ref"), CASES, ids=lambda c: type(c).__name__)
def test_logp_ppf_rvs_match_scipy(prior, ref):
    q = np.array([0.01, 0.2, 0.5, 0.9, 0.999])
    x = ref.ppf(q)
    np.testing.assert_allclose(prior.ppf(q), x, rtol=1e-10)
    np.testing.assert_allclose([prior.logp(v) for v in x], ref.logpdf(x), rtol=1e-10)
    lo, hi = prior.support
    for end, sign in ((lo, -1), (hi, 1)):
        if np.isfinite(end):
            assert prior.logp(end + sign * 1e-9 * max(1, abs(end))) == -math.inf
    draws = prior.rvs(2000, rng=1)
    assert np.array_equal(draws, prior.rvs(2000, rng=1))
    assert np.all((draws >= lo) & (draws <= hi))
    assert stats.kstest(draws, ref.cdf).pvalue > 1e-3


def test_densities_are_normalised():
    for prior in (Uniform(2, 5), LogUniform(1e-2, 10), TruncatedNormal(0, 1, -0.5, 2)):
        total = integrate.quad(lambda v, p=prior: math.exp(p.logp(v)), *prior.support, points=[1e-1, 1])[0]
        assert total == pytest.approx(1.0, rel=1e-6)


def test_describe_is_json_ready_and_repr_readable():
    assert Uniform(0, 1).describe() == {"kind": "Uniform", "lo": 0.0, "hi": 1.0}
    assert ScipyPrior(stats.gamma(2.0)).describe()["kind"] == "scipy.gamma"
    assert repr(LogUniform(1, 10)) == "LogUniform(lo=1.0, hi=10.0)"


@pytest.mark.parametrize(("make", "message"), [
    (lambda: Uniform(1, 1), "lo < hi"),
    (lambda: Uniform(2, 1), "lo < hi"),
    (lambda: LogUniform(0, 1), "lo > 0"),
    (lambda: Uniform(0, np.nan), "finite"),
    (lambda: Normal(0, 0), "sd > 0"),
    (lambda: TruncatedNormal(0, 1, 50, 60), "no probability mass"),
    (lambda: Uniform(0, 1).ppf(1.5), r"\[0, 1\]"),
    (lambda: as_prior("uniform"), "Prior or a frozen scipy"),
    (lambda: ScipyPrior(stats.norm), "frozen scipy.stats"),
    (lambda: default_prior("x", -np.inf, 1), "no finite bounds"),
])
def test_bad_inputs(make, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make()


def test_defaults_from_the_parameter_table():
    model = STMHeatCapacityModel(phonons="free")
    params = model.make_params()
    priors = default_priors(model, params, ["P0", "c3"])
    assert isinstance(priors["P0"], LogUniform) and priors["P0"].support == (1e-4, 1e4)   # log_scale row
    assert isinstance(priors["c3"], Uniform) and priors["c3"].support == (0.0, 1e4)
    params["c3"].set(min=1.0, max=2.0)                                                   # narrowed by the user
    assert default_priors(model, params, ["c3"])["c3"].support == (1.0, 2.0)
    priors = default_priors(model, params, ["P0", "c3"], {"P0": stats.norm(2, 0.1)})
    assert isinstance(priors["P0"], ScipyPrior)


def test_unknown_override_lists_the_valid_names():
    model = KKIHeatCapacityModel()
    with pytest.raises(ValueError, match=r"\['w'\].*free parameters: \['eta_c', 'xi_c', 'log10_N'\]"):
        default_priors(model, model.make_params(), ["eta_c", "xi_c", "log10_N"], {"w": Uniform(1, 2)})


def test_prior_standard_deviation():
    assert Uniform(0.0, 1.0).std == pytest.approx(1 / math.sqrt(12), rel=1e-12)
    assert Normal(3.0, 0.5).std == pytest.approx(0.5, rel=1e-3)
    lo, hi = 1.0, 100.0                           # log-uniform: E x = (hi − lo)/ln(hi/lo), E x² = (hi² − lo²)/2 ln
    m1, m2 = (hi - lo) / math.log(hi / lo), (hi**2 - lo**2) / (2 * math.log(hi / lo))
    assert LogUniform(lo, hi).std == pytest.approx(math.sqrt(m2 - m1**2), rel=1e-6)
