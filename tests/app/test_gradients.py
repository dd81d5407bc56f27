"""Gradients: loop and vmap(grad) agree, the field is core's, ds/dγ is checked, 2-D only."""

from __future__ import annotations

import numpy as np

from core.data import load_dataset
from core.lessons.gradients import field_grid, gamma_range, kernel_gradient_field, summary_curve
from core.kernels.functions import median_heuristic_gamma, rbf_kernel
from tests.app.conftest import metric, no_exception, open_page, plotly_figures, widget

PAGE = "gradients.py"


def test_gradients_page_numbers_are_cores():
    at = open_page(PAGE)
    figures = plotly_figures(at)
    assert {"w_grad_timing_chart", "w_grad_norm_chart", "w_grad_field_chart",
            "w_grad_summary_chart", "w_grad_derivative_chart"} <= set(figures)

    # 1. loop of grad == vmap(grad), timed, on the first 100 rows; norms for all 400
    assert float(metric(at, "max |loop − vmap|")) <= 1e-5
    assert any(s.value.startswith("Equal") for s in at.success)
    assert metric(at, "Speedup").endswith("×")
    assert any("first 100 of 400 rows" in i.value for i in at.info)
    assert len(figures["w_grad_norm_chart"]["data"][0]["x"]) == 400

    # 2. the field: the arrows' values are vmap(grad(k)) of core around point 0
    X, _ = load_dataset("blobs", n=400, seed=0, noise=0.1, dtype="float32")
    gamma = at.session_state["gamma"]
    _, _, grid = field_grid(X, 21)
    field = np.asarray(kernel_gradient_field(rbf_kernel, {"gamma": gamma}, X[0], grid))
    hover = next(t for t in figures["w_grad_field_chart"]["data"] if t.get("name") == "gradient")
    np.testing.assert_allclose(hover["customdata"][:, :2], field, rtol=1e-5, atol=1e-7)
    assert metric(at, "∇ₓk at x = c") == "(0, 0)"
    assert float(metric(at, "max |vmap(grad) − (−2γ(x − c)k)|")) <= 1e-5

    # 3. s(γ) and ds/dγ are core's, and grad agrees with finite differences
    gammas = gamma_range(median_heuristic_gamma(X), gamma)
    curve = summary_curve(rbf_kernel, {}, X, gammas, max_points=300)
    np.testing.assert_allclose(figures["w_grad_summary_chart"]["data"][0]["y"], curve.values,
                               rtol=1e-5)
    np.testing.assert_allclose(figures["w_grad_derivative_chart"]["data"][0]["y"],
                               curve.derivative, rtol=1e-5)
    assert float(metric(at, "max |grad − finite difference|")) < 0.05

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
    assert float(metric(at, "max |loop − vmap|")) <= 1e-5


def test_timings_compare_like_with_like_with_two_figures_and_a_spread():
    import re

    at = open_page(PAGE, {"n": "60"})
    # Compiled against compiled: the headline speedup is loop of jit(grad) / jit(vmap(grad)).
    speedup = metric(at, "Speedup, both compiled")
    assert re.fullmatch(r"[\d,.]+×, range [\d,.]+–[\d,.]+×", speedup), speedup
    for label in ("Loop of jit(grad)", "jit(vmap(grad))"):
        value = metric(at, label)
        # e.g. "1.2 ms (IQR 0.10 ms, 7 runs)": 2 significant figures, then the spread
        assert re.fullmatch(r"\d(\.\d|\d)?\d? [mµn]?s \(IQR [\d.]+ [mµn]?s, \d+ runs?\)",
                            value), value
    caption = next(c.value for c in at.caption if c.value.startswith("Without jit"))
    assert "faster" in caption and "range" in caption
    names = plotly_figures(at)["w_grad_timing_chart"]["data"][0]["y"]
    assert {n.split(" (")[0] for n in names} == {"loop of grad", "vmap(grad)", "loop of jit(grad)",
                                                  "jit(vmap(grad))"}
