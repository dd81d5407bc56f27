"""vmap anatomy's view: predict batched four ways, the in_axes playground, the jaxprs, the
late-binding trap and vv -> mv -> mm, one section function each.

The page draws each section from its function (the timed forms once per data and seed,
the playground and the jaxprs as their controls change); `anatomy_view` is all of them.
The timings of the four forms are measured wherever the view runs (they are the
table's numbers on this machine, never the app's); every other number is the page's own.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from core.lessons.anatomy import (JAXPR_EXAMPLES, compare_predict_forms, jaxpr_pair,
                                  matmul_ladder, parse_shape, try_vmap)
from core.lessons.predict import init_params, late_binding_demo
from core.precision import dtype_scope

__all__ = ["PREDICT_MAX_ROWS", "LATE_BINDING_ROWS", "MATMUL_MAX_ROWS", "forms_timing_table",
           "predict_forms", "playground_arrays", "jaxpr_texts", "late_binding", "matmul_stages",
           "anatomy_view", "anatomy_figure"]

PREDICT_MAX_ROWS = 1000  # the loop forms stack one result per row: slow to compile beyond this
LATE_BINDING_ROWS = 40
MATMUL_MAX_ROWS = 300


def forms_timing_table(forms) -> np.ndarray:
    """The forms' timings as one record per form (NaN where a form has no jitted run).

    Args:
      forms: `compare_predict_forms`'s result.

    Returns:
      shape (F,), fields "form" (text), "first_call_s", "median_s", "q25_s", "q75_s",
      "repeats", "jit_compile_s", "jit_median_s", "jit_q25_s", "jit_q75_s" (seconds),
      "jit_repeats" (0 without a jitted run).
    """
    nan = float("nan")
    table = np.zeros(len(forms), dtype=[("form", "U48"), ("first_call_s", "f8"), ("median_s", "f8"),
                                        ("q25_s", "f8"), ("q75_s", "f8"), ("repeats", "i8"),
                                        ("jit_compile_s", "f8"), ("jit_median_s", "f8"),
                                        ("jit_q25_s", "f8"), ("jit_q75_s", "f8"),
                                        ("jit_repeats", "i8")])
    for i, f in enumerate(forms):
        q25, q75 = np.percentile(f.eager.times_s, [25, 75])
        first = f.eager.first_call_s
        jit = (f.jitted.compile_s, f.jitted.median_s, *np.percentile(f.jitted.times_s, [25, 75]),
               f.jitted.repeats) if f.jitted else (nan, nan, nan, nan, 0)
        table[i] = (f.label, nan if first is None else first, f.eager.median_s, q25, q75,
                    f.eager.repeats, *jit)
    return table


def predict_forms(X: np.ndarray, *, seed: int, budget_s: float = 0.5,
                  on_progress: Callable[[float, str], None] | None = None
                  ) -> dict[str, np.ndarray]:
    """`predict` batched four ways on the first R = min(N, PREDICT_MAX_ROWS) rows, checked and timed.

    Args:
      X: (N, D) data, float32 or float64 (the dtype computed in).
      seed: of `init_params(D, seed)`.
      budget_s: about half the seconds of timing for all forms together.
      on_progress: called with (fraction done, what runs next).

    Returns:
      "predict_forms" (F,) the forms' labels; "predict_outputs" (F, R) each form's
      predictions; "predict_max_abs_diff" (F,) against the in_axes form and
      "predict_agrees" (F,) bool (within round-off); "predict_tolerance" () that round-off;
      "predict_timings" (F,) records (`forms_timing_table`, measured here, every form
      and compiled form in turn, round by round); "predict_other_cores" () other
      processes' CPU during the timing, in cores (NaN: not measured).
    """
    n, d = X.shape
    params = init_params(d, seed, dtype=X.dtype.type)
    with dtype_scope(X.dtype):
        forms = compare_predict_forms(params, X[:min(n, PREDICT_MAX_ROWS)], budget_s=budget_s,
                                      on_progress=on_progress)
    return {"predict_forms": np.array([f.label for f in forms]),
            "predict_outputs": np.stack([f.output for f in forms]),
            "predict_max_abs_diff": np.array([f.max_abs_diff for f in forms]),
            "predict_agrees": np.array([f.agrees for f in forms]),
            "predict_tolerance": np.array(forms[0].tolerance),
            "predict_timings": forms_timing_table(forms),
            "predict_other_cores": np.array(np.nan if forms[0].eager.other_cores is None
                                            else forms[0].eager.other_cores)}


def playground_arrays(fn_name: str, shape_a: str, shape_b: str, in_axes: tuple, out_axes: int,
                      dtype: str) -> dict[str, np.ndarray]:
    """The playground's outcome for one choice, as arrays.

    Args:
      fn_name: a key of `PLAYGROUND_FUNCTIONS`; shape_a, shape_b: the shapes as typed
        ("5, 3"); in_axes: (for a, for b), each 0, 1 or None; out_axes: 0 or 1.

    Returns:
      A shape that does not parse: only "playground_shape_errors" (k,) text, why. Else
      "playground_input_shapes" (2,) text, the shapes of a and b ("(5, 3)"), and
      "playground_code" () the call traced; then on success "playground_shape" (rank,)
      int64, the batched output's shape, "playground_rank_notes" (k,) text (k = 0: f got
      what it was written for), "playground_per_example_in" (2,) text, the shapes f sees
      for one example, "playground_per_example_out" () text, f's output shape for one,
      "playground_batch_size" () int64, the mapped axis' length; else "playground_error",
      a 0-d text array: JAX's own message.
    """
    shapes, errors = [], []
    for name, text in (("a", shape_a), ("b", shape_b)):
        try:
            shapes.append(parse_shape(text))
        except ValueError as err:
            errors.append(f"Shape of {name}: {err}")
    if errors:
        return {"playground_shape_errors": np.array(errors, dtype=str)}
    with dtype_scope(dtype):
        result = try_vmap(fn_name, shapes, tuple(in_axes), out_axes, dtype)
    view = {"playground_input_shapes": np.array([str(s) for s in shapes]),
            "playground_code": np.array(result.code)}
    if not result.ok:
        return {**view, "playground_error": np.array(result.error)}
    return {**view, "playground_shape": np.array(result.shape, dtype=np.int64),
            "playground_rank_notes": np.array(result.rank_notes, dtype=str),
            "playground_per_example_in": np.array([str(s) for s in result.per_example_in]),
            "playground_per_example_out": np.array(str(result.per_example_out)),
            "playground_batch_size": np.array(result.batch_size, dtype=np.int64)}


def jaxpr_texts(name: str, n: int, d: int, dtype: str) -> dict[str, np.ndarray]:
    """The jaxprs of `JAXPR_EXAMPLES[name]` on (N, D) shapes, unbatched and batched.

    Returns:
      f"jaxpr_{name}_plain" and f"jaxpr_{name}_batched", 0-d text each.
    """
    with dtype_scope(dtype):
        plain, batched = jaxpr_pair(name, n, d, dtype)
    return {f"jaxpr_{name}_plain": np.array(plain), f"jaxpr_{name}_batched": np.array(batched)}


def late_binding(X: np.ndarray, *, seed: int) -> dict[str, np.ndarray]:
    """partial against lambda when params is rebound from seed to seed + 1.

    Returns:
      "late_before", "late_partial_after", "late_lambda_after", "late_new_params_reference"
      (M,) for the first M = min(N, LATE_BINDING_ROWS) rows; "late_partial_kept"
      max |partial after − before|, "late_lambda_moved" max |lambda after − new params|,
      "late_lambda_change" max |lambda after − before|, 0-d each.
    """
    n, d = X.shape
    params = init_params(d, seed, dtype=X.dtype.type)
    new_params = init_params(d, seed + 1, dtype=X.dtype.type)
    with dtype_scope(X.dtype):
        demo = late_binding_demo(params, new_params, X[:min(n, LATE_BINDING_ROWS)])
    view = {f"late_{k}": v for k, v in demo.items()}
    largest = lambda a, b: np.array(np.max(np.abs(demo[a] - demo[b])))  # noqa: E731
    view.update(late_partial_kept=largest("partial_after", "before"),
                late_lambda_moved=largest("lambda_after", "new_params_reference"),
                late_lambda_change=largest("lambda_after", "before"))
    return view


def matmul_stages(X: np.ndarray) -> dict[str, np.ndarray]:
    """vv -> mv -> mm -> vmap_matmul on A = the first min(N, MATMUL_MAX_ROWS) rows, B = Aᵀ.

    Returns:
      (4,) each: "matmul_stage" the names, "matmul_call" the calls, "matmul_inputs" the
      input shapes, "matmul_output_shape" the output's shape as text ("()" a scalar),
      "matmul_max_abs_diff" each stage against `@`.
    """
    A = X[:min(X.shape[0], MATMUL_MAX_ROWS)]
    with dtype_scope(X.dtype):
        stages = matmul_ladder(A, A.T)
    return {"matmul_stage": np.array([s.name for s in stages]),
            "matmul_call": np.array([s.code for s in stages]),
            "matmul_inputs": np.array([s.inputs for s in stages]),
            "matmul_output_shape": np.array([str(tuple(s.shape)) for s in stages]),
            "matmul_max_abs_diff": np.array([s.max_abs_diff for s in stages])}


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
      The sections' arrays: `predict_forms` ("predict_*"), `playground_arrays`
      ("playground_*"), `jaxpr_texts` for every example ("jaxpr_*"), `late_binding`
      ("late_*") and `matmul_stages` ("matmul_*").
    """
    n, d = X.shape
    view = predict_forms(X, seed=seed, budget_s=budget_s)
    view.update(playground_arrays(fn_name, shape_a, shape_b, in_axes, out_axes, X.dtype.name))
    for name in JAXPR_EXAMPLES:
        view.update(jaxpr_texts(name, n, d, X.dtype.name))
    view.update(late_binding(X, seed=seed))
    view.update(matmul_stages(X))
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
