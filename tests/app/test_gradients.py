"""Gradients: loop and vmap(grad) agree, the field is core's, ds/dγ is checked, 2-D only."""

from __future__ import annotations

import numpy as np

from core.views.data import builtin_data
from core.views.gradients import gradients_view, norm_projection
from tests.app.conftest import metric, no_exception, open_page, plotly_figures, widget
from tests.conftest import TOL

PAGE = "gradients.py"


def _title(axis: dict) -> str:
    title = axis.get("title")
    return str(title.get("text", "")) if isinstance(title, dict) else str(title or "")


def _close(got, want, dtype: str, scale: float = 1.0) -> None:
    np.testing.assert_allclose(np.asarray(got, np.float64), np.asarray(want, np.float64),
                               rtol=10 * TOL[dtype], atol=10 * TOL[dtype] * scale)


def _covers(axis: dict, values) -> None:
    low, high = sorted(axis["range"])
    assert low <= np.min(values) and np.max(values) <= high, (axis["range"], np.min(values),
                                                               np.max(values))


def test_gradients_page_draws_the_views_arrays():
    at = open_page(PAGE)
    figures = plotly_figures(at)
    assert {"w_grad_timing_chart", "w_grad_norm_chart", "w_grad_field_chart",
            "w_grad_summary_chart", "w_grad_derivative_chart", "w_grad_norm_hist"} <= set(figures)
    # The view called directly with the page's own settings (what its export hands over):
    # the page must draw these arrays. Timings are measured anew, so by labels and shapes.
    source, settings = at.session_state["_export_gradients"][:2]
    X, y = builtin_data(source.dataset, source.n, source.seed, source.noise, source.dtype)
    view = gradients_view(X, y, **settings, budget_s=0.01)
    dtype = source.dtype

    # 1. loop of grad == vmap(grad), timed, on the first 100 rows; norms for all 400
    assert float(metric(at, "max |loop − vmap|")) <= 1e-5
    np.testing.assert_allclose(float(metric(at, "max |loop − vmap|")), view["grad_max_abs_diff"],
                               rtol=6e-3, atol=10 * TOL[dtype])
    rows = int(view["grad_rows"])
    assert any(s.value.startswith(f"Equal: the loops and vmap(grad) give the same {rows} ")
               for s in at.success) and rows == 100
    assert any("first 100 of 400 rows" in i.value for i in at.info)
    timing = figures["w_grad_timing_chart"]
    assert sorted(timing["data"][0]["y"]) == sorted(f"{v} ({rows} rows)"
                                                    for v in view["grad_timings"]["variant"])
    assert np.all(np.asarray(timing["data"][0]["x"]) > 0) and timing["layout"]["xaxis"]["type"] == "log"
    assert _title(timing["layout"]["xaxis"]) == "median time per call (seconds, log scale)"
    norms = figures["w_grad_norm_chart"]["data"][0]
    np.testing.assert_array_equal(norms["customdata"][:, 0], np.arange(400))
    _close(norms["x"], view["norm_points"][:, 0], dtype, scale=np.abs(X).max())
    _close(norms["y"], view["norm_points"][:, 1], dtype, scale=np.abs(X).max())
    _close(norms["marker"]["color"], view["grad_norms"], dtype)
    layout = figures["w_grad_norm_chart"]["layout"]
    assert (_title(layout["xaxis"]), _title(layout["yaxis"])) == ("x₁", "x₂")  # D = 2: the data
    counts = figures["w_grad_norm_hist"]["data"][0]["y"]
    np.testing.assert_array_equal(counts, np.histogram(view["grad_norms"], bins=60)[0])

    # 2. the field around point 0: the surface, the arrows' values and the centre are the view's
    field = figures["w_grad_field_chart"]
    surface = field["data"][0]
    _close(surface["x"], view["field_xs"], dtype, scale=np.abs(X).max())
    _close(surface["y"], view["field_ys"], dtype, scale=np.abs(X).max())
    _close(surface["z"], view["field_surface"], dtype)
    hover = next(t for t in field["data"] if t.get("name") == "gradient")
    _close(np.column_stack([hover["x"], hover["y"]]), view["field_points"], dtype,
           scale=np.abs(X).max())
    _close(hover["customdata"][:, :2], view["field_gradients"], dtype,
           scale=np.abs(view["field_gradients"]).max())
    star = next(t for t in field["data"] if t.get("name") == "centre c")
    _close([star["x"][0], star["y"][0]], view["field_center"], dtype)
    shown = next(t for t in field["data"] if t.get("name") == "data points")
    np.testing.assert_array_equal(np.column_stack([shown["x"], shown["y"]]), X)
    for axis, column in (("xaxis", 0), ("yaxis", 1)):
        _covers(field["layout"][axis], X[:, column])
        _covers(field["layout"][axis], view["field_points"][:, column])
    assert _title(field["layout"]["xaxis"]) == "x₁ (data units)"
    assert _title(field["layout"]["yaxis"]) == "x₂ (data units)"
    assert metric(at, "∇ₓk at x = c") == "(0, 0)"
    np.testing.assert_allclose(float(metric(at, "max |vmap(grad) − (−2γ(x − c)k)|")),
                               view["field_rbf_gap"], rtol=6e-3, atol=10 * TOL[dtype])

    # 3. s(γ) and ds/dγ over the view's gammas, grad checked by finite differences
    value = figures["w_grad_summary_chart"]
    _close(value["data"][0]["x"], view["curve_gammas"], dtype, scale=view["curve_gammas"].max())
    _close(value["data"][0]["y"], view["curve_values"], dtype)
    _covers(value["layout"]["yaxis"], view["curve_values"])
    assert value["layout"]["xaxis"]["type"] == "log"
    assert _title(value["layout"]["xaxis"]) == "γ (1 / data units², log scale)"
    assert _title(value["layout"]["yaxis"]).startswith("s(γ)")
    slope = figures["w_grad_derivative_chart"]
    scale = np.abs(view["curve_derivative"]).max()
    _close(slope["data"][0]["x"], view["curve_gammas"], dtype, scale=view["curve_gammas"].max())
    _close(slope["data"][0]["y"], view["curve_derivative"], dtype, scale=scale)
    _close(slope["data"][1]["y"], view["curve_finite_difference"], dtype, scale=scale)
    assert [t["name"] for t in slope["data"][:2]] == ["jax.grad", "finite difference"]
    assert _title(slope["layout"]["yaxis"]) == "ds/dγ (data units²)"
    assert metric(at, "max |grad − finite difference|") == f"{view['curve_max_relative_gap']:.2g}"
    assert float(metric(at, "max |grad − finite difference|")) < 0.05
    assert metric(at, "Points used") == f"{int(view['curve_n_used']):,}"

    # controls: another centre moves the star; fewer loop rows rerun the timing
    widget(at, "w_grad_center").set_value(7).run()
    no_exception(at)
    star = next(t for t in plotly_figures(at)["w_grad_field_chart"]["data"]
                if t.get("name") == "centre c")
    np.testing.assert_allclose([star["x"][0], star["y"][0]], X[7], rtol=1e-6)
    widget(at, "w_grad_loop_rows").set_value(25).run()
    no_exception(at)
    assert any("first 25 of 400 rows" in i.value for i in at.info)


def test_without_2d_data_or_gamma_the_page_says_why():
    at = open_page(PAGE, {"dataset": "iris", "kernel": "linear"})
    figures = plotly_figures(at)
    assert "w_grad_field_chart" not in figures and "w_grad_summary_chart" not in figures
    assert any("2-D data only" in i.value and "D = 4" in i.value for i in at.info)
    assert any("has no gamma" in i.value for i in at.info)
    assert "w_grad_norm_chart" in figures  # per-sample gradients work in any D
    # D = 4: the norms are drawn over the first two principal components, named on the axes
    source = at.session_state["_export_gradients"][0]
    X, _ = builtin_data(source.dataset, source.n, source.seed, source.noise, source.dtype)
    projection = norm_projection(X)
    scatter = figures["w_grad_norm_chart"]
    _close(scatter["data"][0]["x"], projection["norm_points"][:, 0], source.dtype, scale=10.0)
    _close(scatter["data"][0]["y"], projection["norm_points"][:, 1], source.dtype, scale=10.0)
    share = projection["norm_explained"]
    assert _title(scatter["layout"]["xaxis"]) == f"PC 1 ({share[0]:.0%} of variance)"
    assert _title(scatter["layout"]["yaxis"]) == f"PC 2 ({share[1]:.0%})"
    assert float(metric(at, "max |loop − vmap|")) <= 1e-5


def test_timings_compare_like_with_like_with_two_figures_and_a_spread():
    import re

    at = open_page(PAGE, {"n": "60"})
    # Compiled against compiled: the headline speedup is loop of jit(grad) / jit(vmap(grad)).
    speedup = metric(at, "Speedup, both compiled")
    # "12×, range 9.5–15×", or where the range holds 1 it says so rather than name a winner
    assert re.fullmatch(r"[\d,.]+×, (range [\d,.]+–[\d,.]+×|within noise on this machine now "
                        r"\(range [\d,.]+–[\d,.]+×\))", speedup), speedup
    for label in ("Loop of jit(grad)", "jit(vmap(grad))"):
        value = metric(at, label)
        # e.g. "1.2 ms (IQR 0.10 ms, 7 runs)": 2 significant figures, then the spread
        assert re.fullmatch(r"\d(\.\d|\d)?\d? [mµn]?s \(IQR [\d.]+ [mµn]?s, \d+ runs?\)",
                            value), value
    caption = next(c.value for c in at.caption if c.value.startswith("Without jit"))
    assert "the loop over vmap: " in caption and "range" in caption
    # What else ran on the machine meanwhile, measured for this run
    assert re.search(r"The machine was (busy|quiet) while this ran \(other processes used "
                     r"\d+\.\d of \d+ cores\)", caption), caption
    names = plotly_figures(at)["w_grad_timing_chart"]["data"][0]["y"]
    assert {n.split(" (")[0] for n in names} == {"loop of grad", "vmap(grad)", "loop of jit(grad)",
                                                  "jit(vmap(grad))"}
