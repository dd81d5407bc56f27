"""vmap anatomy's view: predict batched four ways, the in_axes playground, the late-binding trap.

The timings of the four forms are measured wherever the view runs (they are the
table's numbers on this machine, never the app's); the outputs and the demo's
numbers are the page's own.
"""

from __future__ import annotations

import numpy as np

from core.lessons.anatomy import compare_predict_forms, matmul_ladder, parse_shape, try_vmap
from core.lessons.predict import init_params, late_binding_demo
from core.precision import dtype_scope

__all__ = ["PREDICT_MAX_ROWS", "LATE_BINDING_ROWS", "MATMUL_MAX_ROWS", "forms_timing_table",
           "playground_arrays", "anatomy_view", "anatomy_figure"]

PREDICT_MAX_ROWS = 1000  # the loop forms stack one result per row: slow to compile beyond this
LATE_BINDING_ROWS = 40
MATMUL_MAX_ROWS = 300


def forms_timing_table(forms) -> np.ndarray:
    """The forms' timings as one record per form (NaN where a form has no jitted run).

    Args:
      forms: `compare_predict_forms`'s result.

    Returns:
      shape (F,), fields "form" (text), "first_call_s", "median_s", "q25_s", "q75_s",
      "repeats", "jit_compile_s", "jit_median_s" (seconds).
    """
    nan = float("nan")
    table = np.zeros(len(forms), dtype=[("form", "U48"), ("first_call_s", "f8"), ("median_s", "f8"),
                                        ("q25_s", "f8"), ("q75_s", "f8"), ("repeats", "i8"),
                                        ("jit_compile_s", "f8"), ("jit_median_s", "f8")])
    for i, f in enumerate(forms):
        q25, q75 = np.percentile(f.eager.times_s, [25, 75])
        first = f.eager.first_call_s
        table[i] = (f.label, nan if first is None else first, f.eager.median_s, q25, q75,
                    f.eager.repeats, f.jitted.compile_s if f.jitted else nan,
                    f.jitted.median_s if f.jitted else nan)
    return table


def playground_arrays(fn_name: str, shape_a: str, shape_b: str, in_axes: tuple, out_axes: int,
                      dtype: str) -> dict[str, np.ndarray]:
    """The playground's outcome for one choice, as arrays.

    Args:
      fn_name: a key of `PLAYGROUND_FUNCTIONS`; shape_a, shape_b: the shapes as typed
        ("5, 3"); in_axes: (for a, for b), each 0, 1 or None; out_axes: 0 or 1.

    Returns:
      On success "playground_shape" (rank,) int64, the batched output's shape, and
      "playground_rank_notes" (k,) text (k = 0: f got what it was written for); else
      "playground_error", a 0-d text array: JAX's own message, or why a shape was refused.
    """
    shapes = []
    for name, text in (("a", shape_a), ("b", shape_b)):
        try:
            shapes.append(parse_shape(text))
        except ValueError as err:
            return {"playground_error": np.array(f"Shape of {name}: {err}")}
    with dtype_scope(dtype):
        result = try_vmap(fn_name, shapes, tuple(in_axes), out_axes, dtype)
    if not result.ok:
        return {"playground_error": np.array(result.error)}
    return {"playground_shape": np.array(result.shape, dtype=np.int64),
            "playground_rank_notes": np.array(result.rank_notes, dtype=str)}


def anatomy_view(X: np.ndarray, y: np.ndarray | None, *, seed: int, fn_name: str, shape_a: str,
                 shape_b: str, in_axes: tuple, out_axes: int, budget_s: float = 0.5
                 ) -> dict[str, np.ndarray]:
    """What vmap anatomy shows for the sidebar's data and the playground's choice.

    Args:
      X: (N, D) data, float32 or float64 (the dtype computed in). y: not used.
      seed: of `init_params(D, seed)`; the late-binding demo rebinds params to seed + 1.
      fn_name, shape_a, shape_b, in_axes, out_axes: the playground's controls.
      budget_s: seconds of timing per form (the page's half second).

    Returns:
      "predict_forms" (4,) the forms' labels; "predict_outputs" (4, R) each form's
      predictions on the first R = min(N, PREDICT_MAX_ROWS) rows; "predict_timings" (4,)
      records (`forms_timing_table`, measured here); the playground's arrays
      (`playground_arrays`); "late_before", "late_partial_after", "late_lambda_after",
      "late_new_params_reference" (M,) for the first M = min(N, LATE_BINDING_ROWS) rows;
      "matmul_max_abs_diff" (4,) each stage of vv -> mv -> mm against `@` on the first
      min(N, MATMUL_MAX_ROWS) rows.
    """
    n, d = X.shape
    params = init_params(d, seed, dtype=X.dtype.type)
    new_params = init_params(d, seed + 1, dtype=X.dtype.type)
    with dtype_scope(X.dtype):
        forms = compare_predict_forms(params, X[:min(n, PREDICT_MAX_ROWS)], budget_s=budget_s)
        demo = late_binding_demo(params, new_params, X[:min(n, LATE_BINDING_ROWS)])
        A = X[:min(n, MATMUL_MAX_ROWS)]
        stages = matmul_ladder(A, A.T)
    view = {"predict_forms": np.array([f.label for f in forms]),
            "predict_outputs": np.stack([f.output for f in forms]),
            "predict_timings": forms_timing_table(forms)}
    view.update(playground_arrays(fn_name, shape_a, shape_b, in_axes, out_axes, X.dtype.name))
    view.update({f"late_{k}": v for k, v in demo.items()})
    view["matmul_max_abs_diff"] = np.array([s.max_abs_diff for s in stages])
    return view


def anatomy_figure(view: dict[str, np.ndarray]):
    """The page's late-binding chart: predictions before and after params changed (Plotly)."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for key, name in (("late_before", "before"), ("late_partial_after", "partial, after"),
                      ("late_lambda_after", "lambda, after"),
                      ("late_new_params_reference", "predict(new params)")):
        fig.add_trace(go.Scatter(y=view[key], mode="markers+lines", name=name))
    fig.update_layout(title="Predictions before and after params changed",
                      xaxis_title="point", yaxis_title="prediction")
    return fig
