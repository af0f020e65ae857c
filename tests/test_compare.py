import numpy as np
import pytest
from scipy import stats

from glassfit.compare import compare_elpd, information_criteria, loo, waic
from glassfit.models import BlackTimeHeatModel, KKITimeHeatModel

T_GRID, t_GRID = (a.ravel() for a in np.meshgrid([0.1, 0.2], np.geomspace(1e-5, 1e5, 11), indexing="ij"))


def _fit_both(data, sigma):
    black = BlackTimeHeatModel(output="J/(m3 K)")
    pb = black.make_params()
    pb["P0"].set(value=0.5)
    pb["gamma_l"].set(vary=True)
    pb["gamma_t"].set(expr="0.65*gamma_l")
    kki = KKITimeHeatModel(output="J/(m3 K)")
    pk = kki.make_params(rho=dict(value=1200.0), chi_2=dict(expr="chi_1"), chi_1=dict(value=3.0))
    for name in ("eta_c", "xi_c"):
        pk[name].set(vary=False)
    fits = {"black": black.fit(data, pb, T=T_GRID, t=t_GRID, weights=1 / sigma),
            "kki": kki.fit(data, pk, T=T_GRID, t=t_GRID, weights=1 / sigma)}
    return information_criteria(fits)


def test_the_true_law_wins_on_synthetic_kki_data(rng):
    # synthetic c(T, t) (labelled synthetic): the KKI law over ten decades of t, 1 % noise
    kki = KKITimeHeatModel(output="J/(m3 K)")
    truth = kki.make_params(rho=dict(value=1200.0), chi_1=dict(value=3.0), chi_2=dict(value=3.0))
    clean = kki.eval(truth, T=T_GRID, t=t_GRID)
    sigma = 0.01 * clean
    rows = _fit_both(clean + sigma * rng.standard_normal(clean.size), sigma)
    assert rows[0].name == "kki" and rows[1].delta_bic > 10


def test_the_true_law_wins_on_synthetic_black_data(rng):
    black = BlackTimeHeatModel(output="J/(m3 K)")
    clean = black.eval(black.make_params(P0=dict(value=0.3)), T=T_GRID, t=t_GRID)
    sigma = 0.01 * clean
    rows = _fit_both(clean + sigma * rng.standard_normal(clean.size), sigma)
    assert rows[0].name == "black" and rows[1].delta_bic > 10
    assert sum(r.aic_weight for r in rows) == pytest.approx(1.0)


def test_loo_and_waic_of_a_known_gaussian_model(rng):
    # y ~ N(μ, 1) with a flat prior: posterior μ ~ N(ȳ, 1/n); compare with a model that fixes μ = ȳ + 1
    n, draws = 40, 4000
    y = rng.normal(0.3, 1.0, n)
    mu = rng.normal(y.mean(), 1 / np.sqrt(n), draws)
    ll_true = stats.norm.logpdf(y[None, :], mu[:, None], 1.0)
    ll_wrong = stats.norm.logpdf(y[None, :], (mu + 1.0)[:, None], 1.0)
    est = loo(ll_true)
    # leave-one-out predictive N(ȳ_{−i}, 1 + 1/(n−1)), summed exactly
    loo_mean = (y.sum() - y) / (n - 1)
    exact = np.sum(stats.norm.logpdf(y, loo_mean, np.sqrt(1 + 1 / (n - 1))))
    assert est.elpd == pytest.approx(exact, abs=0.1) and est.p_eff == pytest.approx(1.0, abs=0.3)
    assert est.pareto_k_max < 0.7
    assert waic(ll_true).elpd == pytest.approx(est.elpd, abs=0.2)
    ranking = compare_elpd({"wrong": ll_wrong, "true": ll_true})
    assert ranking[0][0] == "true" and ranking[1][1] < -2 * ranking[1][2]


def test_bad_inputs():
    with pytest.raises(ValueError, match="at least two"):
        information_criteria({})
    with pytest.raises(ValueError, match="shape"):
        loo(np.zeros(5))
    with pytest.raises(ValueError, match="finite"):
        waic(np.full((10, 3), np.nan))
