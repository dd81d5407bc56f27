"""vmap anatomy: the forms agree, the playground answers like JAX, the trap and vv → mm show."""

from __future__ import annotations

import numpy as np

from core.views.anatomy import anatomy_view
from core.views.data import builtin_data
from tests.app.conftest import metric, no_exception, open_page, plotly_figures, widget
from tests.app.figures import figure_by_title
from tests.conftest import TOL

PAGE = "anatomy.py"


def _title(axis: dict) -> str:
    title = axis.get("title")
    return str(title.get("text", "")) if isinstance(title, dict) else str(title or "")


def _shown_number(text: str, want: float, dtype: str) -> None:
    """A number the page printed to 3 significant figures is `want` (round-off apart)."""
    np.testing.assert_allclose(float(text), want, rtol=6e-3, atol=10 * TOL[dtype])


def test_anatomy_page_draws_the_views_arrays_and_answers_its_controls():
    at = open_page(PAGE)
    figures = plotly_figures(at)
    assert {"w_anatomy_forms_chart", "w_anatomy_late_chart"} <= set(figures)
    # The view called directly with the page's own settings (what its export hands over):
    # the page must draw these arrays. Timings are measured anew, so by labels and shapes.
    source, settings = at.session_state["_export_anatomy"][:2]
    X, y = builtin_data(source.dataset, source.n, source.seed, source.noise, source.dtype)
    view = anatomy_view(X, y, **settings, budget_s=0.01)
    dtype = source.dtype

    # 1. the four forms of predict: equal, and timed (one bar each + the two jitted)
    forms = at.table[0].value
    assert list(forms["form"]) == list(view["predict_forms"])
    assert list(forms["agrees"]) == ["yes" if a else "NO" for a in view["predict_agrees"]]
    assert set(forms["agrees"]) == {"yes"} and any(s.value.startswith("Pass") for s in at.success)
    for shown, want in zip(forms["max |Δ| to in_axes form"], view["predict_max_abs_diff"]):
        _shown_number(shown, want, dtype)
    _shown_number(metric(at, "Largest |difference|"), np.max(view["predict_max_abs_diff"]), dtype)
    assert metric(at, "Allowed (round-off") == f"{view['predict_tolerance']:.2g}"
    assert metric(at, "Output shape") == str(view["predict_outputs"].shape[1:]) == "(400,)"
    bars = figures["w_anatomy_forms_chart"]
    jitted = [f"jit({f})" for f, t in zip(view["predict_forms"], view["predict_timings"])
              if np.isfinite(t["jit_median_s"])]
    assert sorted(bars["data"][0]["y"]) == sorted([*view["predict_forms"], *jitted])
    assert len(jitted) == 2 and np.all(np.asarray(bars["data"][0]["x"]) > 0)
    assert bars["layout"]["xaxis"]["type"] == "log"
    assert _title(bars["layout"]["xaxis"]) == "median time per call (seconds, log scale)"

    # 2. the playground's default: a (5, 3) mapped on 0, b (3,) shared
    shape = tuple(int(s) for s in view["playground_shape"])
    assert any(s.value == f"Output shape: {shape}" for s in at.success) and shape == (5,)
    a, b = view["playground_input_shapes"]
    assert any(c.value == f"a.shape = {a}; b.shape = {b}\n{view['playground_code']}"
               for c in at.code)
    seen = ", ".join(f"{nm}: {s}" for nm, s in zip("ab", view["playground_per_example_in"]))
    assert any(f"f itself sees one example, {seen}, and returns shape "
               f"{view['playground_per_example_out']}" in m.value for m in at.markdown)

    # 3. the jaxprs of the default example, unbatched and batched
    codes = [c.value for c in at.code]
    assert str(view["jaxpr_predict_plain"]) in codes and str(view["jaxpr_predict_batched"]) in codes

    # 4. partial vs lambda: each trace is the view's array, over the point indices
    late = figure_by_title(at, "Predictions for the first 40 points")
    traces = {t["name"]: t for t in late["data"]}
    for key, name in (("late_before", "before (partial = lambda)"),
                      ("late_partial_after", "partial, after"), ("late_lambda_after", "lambda, after"),
                      ("late_new_params_reference", "predict with the new params")):
        np.testing.assert_allclose(traces[name]["y"], view[key], rtol=10 * TOL[dtype])
        np.testing.assert_array_equal(traces[name]["x"], np.arange(40))
    assert _title(late["layout"]["xaxis"]) == "point index i"
    assert _title(late["layout"]["yaxis"]) == "prediction tanh(w·xᵢ + b)"
    assert not np.allclose(view["late_lambda_after"], view["late_before"])  # the trap shows
    for label, key in (("max |partial after − before|", "late_partial_kept"),
                       ("max |lambda after − new params|", "late_lambda_moved"),
                       ("max |lambda after − before|", "late_lambda_change")):
        _shown_number(metric(at, label), view[key], dtype)
    assert metric(at, "max |partial after − before|") == "0"
    table = at.dataframe[0].value
    np.testing.assert_array_equal(table["point"], np.arange(8))
    for column, key in (("before", "late_before"), ("partial, after", "late_partial_after"),
                        ("lambda, after", "late_lambda_after"),
                        ("predict(new params)", "late_new_params_reference")):
        np.testing.assert_allclose(table[column], view[key][:8], rtol=10 * TOL[dtype])

    # 5. vv -> mv -> mm: shapes at each stage, equal to @
    matmul = at.dataframe[-1].value
    assert list(matmul["stage"]) == list(view["matmul_stage"])
    assert list(matmul["call"]) == list(view["matmul_call"])
    assert list(matmul["inputs"]) == list(view["matmul_inputs"])
    assert list(matmul["output shape"]) == ["() scalar", "(300,)", "(300, 300)", "(300, 300)"]
    assert list(view["matmul_output_shape"][1:]) == list(matmul["output shape"][1:])
    for shown, want in zip(matmul["max |Δ| to @"], view["matmul_max_abs_diff"]):
        _shown_number(shown, want, dtype)
    assert all(float(v) <= 1e-4 for v in matmul["max |Δ| to @"])

    # 2. the playground: a valid choice gives its shape, an invalid one JAX's message
    assert any(s.value == "Output shape: (5,)" for s in at.success)
    widget(at, "w_anatomy_in_b").set_value(0).run()
    no_exception(at)
    assert any("JAX refused: vmap got inconsistent sizes" in e.value for e in at.error)
    widget(at, "w_anatomy_fn").set_value("outer").run()
    widget(at, "w_anatomy_in_b").set_value(None).run()
    widget(at, "w_anatomy_out").set_value(1).run()
    no_exception(at)
    assert any(s.value == "Output shape: (3, 5, 3)" for s in at.success)
    at.text_input(key="w_anatomy_shape_a").set_value("five").run()
    no_exception(at)
    assert any(e.value.startswith("Shape of a:") and "not a shape" in e.value for e in at.error)

    # 3. jaxprs: the batched Gram program is N × N
    widget(at, "w_anatomy_jaxpr").set_value("rbf").run()
    no_exception(at)
    assert any("f32[400,400] = exp" in c.value for c in at.code)

    # timing again reruns cleanly
    widget(at, "w_anatomy_retime").click().run()
    no_exception(at)
    assert float(metric(at, "Largest |difference|")) <= 1e-6


def test_readme_try_first_in_axes_1_0_shows_the_silent_broadcast_then_0_0_the_error():
    # The README's "try first" for this page: in_axes=(1, 0) on the default shapes
    # a: (5, 3), b: (3,) gives no error but hands f a scalar b; (0, 0) is refused.
    at = open_page(PAGE)
    widget(at, "w_anatomy_in_a").set_value(1).run()
    widget(at, "w_anatomy_in_b").set_value(0).run()
    no_exception(at)
    warning = next(w.value for w in at.warning if w.value.startswith("Output shape: (3,)"))
    assert "receives b as a scalar" in warning and "No error" in warning
    assert not any(s.value.startswith("Output shape") for s in at.success)
    widget(at, "w_anatomy_in_a").set_value(0).run()
    no_exception(at)
    assert any("JAX refused: vmap got inconsistent sizes" in e.value for e in at.error)
