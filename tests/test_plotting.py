import lmfit
import numpy as np
import pytest
from inference_toys import line_objective, stm_objective

from glassfit import plotting, results, sampling
from glassfit.dataset import Dataset
from glassfit.objective import JointObjective, Objective
from glassfit.sampling import fingerprint


def fixed_posterior(objective, chain):
    steps, walkers, _ = chain.shape
    return results.Posterior(list(objective.names), chain, np.zeros((steps, walkers)), np.full(walkers, 0.5), 0, 0,
                             fingerprint(objective))


@pytest.fixture(scope="module")
def stm_posterior(tmp_path_factory):
    obj = stm_objective()
    info = sampling.run(obj, tmp_path_factory.mktemp("plots") / "chain.h5", max_steps=400, seed=0, converge=False)
    return obj, results.Posterior.load(info.path)


def test_band_values_of_a_line():
    """y = a + b x with a, b independent: the band quantiles are those of a + b x over the same draws."""
    obj = line_objective()
    rng = np.random.default_rng(0)
    chain = np.stack([rng.normal(1.0, 0.1, (100, 10)), rng.normal(2.0, 0.2, (100, 10))], axis=-1)
    post = fixed_posterior(obj, chain)
    x = np.array([0.0, 0.5, 1.0])
    band = plotting.predictive_band(post, obj, {"x": x}, draws=800, seed=3, discard=0)
    flat = post.samples(0)
    draws = flat[np.random.default_rng(3).choice(len(flat), 800, replace=False)]
    curves = draws[:, :1] + draws[:, 1:] * x
    np.testing.assert_allclose(band["median"], np.percentile(curves, 50, axis=0))
    np.testing.assert_allclose(band["lo95"], np.percentile(curves, 2.5, axis=0))
    sd = np.hypot(0.1, 0.2 * x)                                       # the analytic band: ±1σ, ±1.96σ
    np.testing.assert_allclose(band["hi68"] - band["lo68"], 2 * sd, rtol=0.12)
    np.testing.assert_allclose(band["hi95"] - band["lo95"], 2 * 1.96 * sd, rtol=0.12)
    np.testing.assert_allclose(band["median"], 1 + 2 * x, atol=0.03)
    again = plotting.predictive_band(post, obj, {"x": x}, draws=800, seed=3, discard=0)
    assert all(np.array_equal(band[k], again[k]) for k in band)     # deterministic
    new_data = plotting.predictive_band(post, obj, draws=1000, seed=3, discard=0, noise=True)
    sd = np.hypot(np.hypot(0.1, 0.2 * obj.data.x["x"]), 0.1)       # parameters and the data's σ = 0.1
    np.testing.assert_allclose(new_data["hi68"] - new_data["lo68"], 2 * sd, rtol=0.15)


def test_number_format_follows_the_width():
    rng = np.random.default_rng(0)
    assert plotting.number_format(rng.normal(2.0, 0.01, 5000)) == ".3f"
    assert plotting.number_format(rng.normal(26.5, 0.5, 5000)) == ".2f"
    assert plotting.number_format(rng.normal(1e26, 1e24, 5000)) == ".3e"


def test_figures_are_written(stm_posterior, tmp_path):
    from matplotlib.image import imread

    obj, post = stm_posterior
    fit = plotting.plot_fit(post, obj, title="synthetic STM c(T)", path=tmp_path / "fit.png")
    top, bottom = fit.axes
    points = top.containers[0].lines[0]                               # the data with their error bars
    np.testing.assert_array_equal(points.get_xdata(), obj.data.x["T"])
    np.testing.assert_array_equal(points.get_ydata(), obj.data.y)
    median = top.get_lines()[0]                                       # the median model on a 200-point grid
    assert len(median.get_xdata()) == 200 and median.get_xdata()[0] == obj.data.x["T"].min()
    band = plotting.predictive_band(post, obj, {"T": median.get_xdata()}, draws=200, seed=0)
    np.testing.assert_allclose(median.get_ydata(), band["median"], rtol=1e-12)
    residuals = bottom.get_lines()[0].get_ydata()
    at_data = plotting.predictive_band(post, obj, draws=200, seed=0)["median"]
    np.testing.assert_allclose(residuals, (obj.data.y - at_data) / obj.data.sigma, rtol=1e-10)
    assert top.get_title() == "synthetic STM c(T)" and top.get_xscale() == top.get_yscale() == "log"
    assert imread(tmp_path / "fit.png").shape[:2] == (1200, 1280)     # 6.4 × 6.0 inch at 200 dpi

    trace = plotting.trace_plot(post, obj, path=tmp_path / "trace.png")
    for i, ax in enumerate(trace.axes):
        walkers = ax.get_lines()
        assert len(walkers) == post.nwalkers
        np.testing.assert_array_equal(walkers[3].get_ydata(), post.chain[:, 3, i])
    corner = plotting.corner_plot(post, obj, path=tmp_path / "corner.png")
    diagonal, first = corner.axes[0], post.samples()[:, 0]
    quantile_lines = [line.get_xdata()[0] for line in diagonal.get_lines()]
    np.testing.assert_allclose(quantile_lines, np.percentile(first, [16, 50, 84]), rtol=1e-12)
    outline = diagonal.patches[0].get_xy()                            # the step histogram spans the samples
    assert outline[:, 0].min() == pytest.approx(first.min()) and outline[:, 0].max() == pytest.approx(first.max())
    assert f"= {np.median(first):{plotting.number_format(first)}}" in diagonal.get_title()
    for name in ("trace", "corner"):
        assert imread(tmp_path / f"{name}.png").ndim == 3
    labels = [ax.get_xlabel() for ax in plotting.corner_plot(post, obj).axes]
    assert r"$\bar P$ [1e45 J^-1 m^-3]" in labels
    assert plotting.plot_fit(post, obj).axes[1].get_xlabel() == "T (K)"


def plane(x, g, a, b):
    return a * x + b * g


def test_two_independent_variables_and_joint(tmp_path):
    model = lmfit.Model(plane, independent_vars=["x", "g"])
    model.set_param_hint("a", value=1.0, min=0, max=5)
    model.set_param_hint("b", value=1.0, min=0, max=5)
    x = np.tile(np.geomspace(1, 10, 8), 2)
    g = np.repeat([1.0, 3.0], 8)
    obj = Objective(model, Dataset({"x": x, "g": g}, plane(x, g, 1.0, 1.0), 0.1, id="plane"))
    joint = JointObjective([obj, line_objective(name="line")])
    post = fixed_posterior(joint, np.random.default_rng(0).normal(1.0, 0.01, (50, 8, 3)))
    fig = plotting.plot_fit(post, joint, dataset="plane", draws=20, path=tmp_path / "plane.png")
    assert len(fig.axes[0].get_lines()) >= 2
    points = fig.axes[0].containers
    assert len(points) == 2                                           # one colour per value of g
    for container, g_value in zip(points, (1.0, 3.0), strict=True):
        at = g == g_value
        np.testing.assert_array_equal(container.lines[0].get_ydata(), plane(x, g, 1.0, 1.0)[at])
    line = plotting.plot_fit(post, joint, dataset=1, draws=20, path=tmp_path / "line.png")
    np.testing.assert_array_equal(line.axes[0].containers[0].lines[0].get_ydata(), joint.parts[1].data.y)


def test_bad_inputs(stm_posterior):
    obj, post = stm_posterior
    with pytest.raises(ValueError, match="no dataset 'kappa'"):
        plotting.plot_fit(post, obj, dataset="kappa")
    with pytest.raises(ValueError, match="dataset index 3 out of range"):
        plotting.plot_fit(post, obj, dataset=3)
    with pytest.raises(ValueError, match="draws must be a positive integer"):
        plotting.predictive_band(post, obj, {"T": [1.0]}, draws=0)
    with pytest.raises(ValueError, match="defined at the data points"):
        plotting.predictive_band(post, obj, {"T": [1.0]}, noise=True)
    with pytest.raises(ValueError, match=r"x lacks the independent variables \['T'\]"):
        plotting.predictive_band(post, obj, {"x": [1.0]})
    with pytest.raises(ValueError, match="not sampled from this objective"):
        plotting.trace_plot(post, line_objective())
    with pytest.raises(ValueError, match="derived 'N' has 3 values"):
        plotting.corner_plot(post, obj, derived_values={"N": [1, 2, 3]})


def test_corner_truth_lines_and_a_title_clear_of_the_panels():
    obj = line_objective()
    rng = np.random.default_rng(1)
    chain = np.stack([rng.normal(1.0, 0.1, (100, 10)), rng.normal(2.0, 0.2, (100, 10))], axis=-1)
    fig = plotting.corner_plot(fixed_posterior(obj, chain), obj, truths={obj.names[0]: 1.05}, title="SYNTHETIC")
    lower_left = np.array(fig.axes).reshape(2, 2)[1, 0]
    vertical = [line.get_xdata()[0] for line in lower_left.get_lines() if line.get_color() == "C3"]
    assert vertical == [1.05]                                          # the truth of the first parameter only
    top_of_panels = max(ax.get_position().y1 for ax in fig.axes)
    assert fig.subplotpars.top == pytest.approx(top_of_panels) and top_of_panels <= 1 - 0.8 / fig.get_figheight()


def test_time_heat_against_t_labelled_by_observable_and_many_curves_distinct():
    def heat(T, t, a):
        return a * T * np.log(t)

    model = lmfit.Model(heat, independent_vars=["T", "t"])
    model.set_param_hint("a", value=1.0, min=0, max=5)
    T = np.repeat(np.linspace(0.1, 1.2, 12), 5)
    t = np.tile(np.geomspace(10.0, 1e4, 5), 12)
    data = Dataset({"T": T, "t": t}, heat(T, t, 1.0), 0.01, id="ct", observable="time_heat")
    obj = Objective(model, data)
    fig = plotting.plot_best_fit([1.0], obj)
    top, bottom = fig.axes[:2]
    assert bottom.get_xlabel() == "t (s)" and top.get_ylabel().startswith("c(T, t)")
    colours = {tuple(np.round(line.get_color(), 6)) if not isinstance(line.get_color(), str) else line.get_color()
               for line in top.get_lines()}
    assert len(colours) == 12                                            # no colour used twice


def test_conductivity_is_drawn_as_kappa_over_t_squared():
    model = lmfit.Model(lambda T, a: a * T**2)
    model.set_param_hint("a", value=0.03, min=0, max=1)
    T = np.geomspace(0.05, 1.0, 8)
    data = Dataset({"T": T}, 0.03 * T**2, 0.03 * 0.03 * T**2, id="k", observable="conductivity")
    fig = plotting.plot_best_fit([0.03], Objective(model, data))
    top = fig.axes[0]
    (points,) = [c for c in top.containers]                            # the error bars of the data
    np.testing.assert_allclose(points.lines[0].get_ydata(), 0.03, rtol=1e-12)
    assert top.get_ylabel() == "κ / T²" or top.get_ylabel().startswith("κ / T²")


def test_view_powers_include_c_over_t_cubed(stm_posterior):
    obj, post = stm_posterior
    top = plotting.plot_fit(post, obj, draws=20, power=3).axes[0]
    T = obj.data.x["T"]
    np.testing.assert_allclose(top.containers[0].lines[0].get_ydata(), obj.data.y / T**3, rtol=1e-15)
    assert top.get_ylabel().endswith("/ T³ (J/(g K) K^-3)")
    raw = plotting.plot_best_fit(post.map(), obj, power=0).axes[0]
    np.testing.assert_array_equal(raw.containers[0].lines[0].get_ydata(), obj.data.y)
    with pytest.raises(ValueError, match="power must be an integer from 0 to 4"):
        plotting.plot_fit(post, obj, draws=20, power=7)


def test_a_long_title_stays_inside_the_figure(stm_posterior):
    obj, post = stm_posterior
    title = "synthetic-kki-heat-capacity (SYNTHETIC): KKIHeatCapacityModel (least squares)"
    fig = plotting.plot_best_fit(post.map(), obj, title=title)
    fig.draw_without_rendering()
    box = fig.axes[0].title.get_window_extent()
    width = fig.get_figwidth() * fig.dpi
    assert 0 <= box.x0 and box.x1 <= width
    assert fig.axes[0].get_title() == title.replace(": KKIHeatCapacityModel (least", ": KKIHeatCapacityModel\n(least")
