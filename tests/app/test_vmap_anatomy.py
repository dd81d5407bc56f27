"""vmap anatomy: the forms agree, the playground answers like JAX, the trap and vv → mm show."""

from __future__ import annotations

import numpy as np

from core.data import load_dataset
from core.lessons.predict import init_params, late_binding_demo
from tests.app.conftest import metric, no_exception, open_page, plotly_figures, widget

PAGE = "anatomy.py"


def test_anatomy_page_shows_the_notes_examples_and_answers_its_controls():
    at = open_page(PAGE)
    figures = plotly_figures(at)
    assert {"w_anatomy_forms_chart", "w_anatomy_late_chart"} <= set(figures)

    # 1. the four forms of predict: equal, and timed (one bar each + the two jitted)
    assert float(metric(at, "Largest |difference|")) <= 1e-6
    assert any(s.value.startswith("Pass") for s in at.success)
    forms = at.table[0].value
    assert len(forms) == 4 and set(forms["agrees"]) == {"yes"}
    assert len(figures["w_anatomy_forms_chart"]["data"][0]["x"]) == 6
    assert metric(at, "Output shape") == "(400,)"

    # 4. partial vs lambda: the numbers shown are core's
    X, _ = load_dataset("blobs", n=400, seed=0, noise=0.1, dtype="float32")
    demo = late_binding_demo(init_params(2, 0), init_params(2, 1), X[:40])
    moved = np.max(np.abs(demo["lambda_after"] - demo["before"]))
    assert metric(at, "max |lambda after − before|") == f"{moved:.3g}"
    assert metric(at, "max |partial after − before|") == "0"
    assert metric(at, "max |lambda after − new params|") == "0"
    np.testing.assert_allclose(figures["w_anatomy_late_chart"]["data"][3]["y"], demo["lambda_after"])

    # 5. vv -> mv -> mm: shapes at each stage, equal to @
    matmul = at.dataframe[-1].value
    assert list(matmul["output shape"]) == ["() scalar", "(300,)", "(300, 300)", "(300, 300)"]
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
