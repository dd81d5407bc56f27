"""What the vmap anatomy page draws: the forms' table and timings, the playground and the
jaxprs (fragments), the late-binding trap, the vv -> mm table; each from core.views.anatomy.

Charts follow `ui.charts.shared`: a title, axis titles with units, hover values, NumPy
arrays to Plotly, the default Streamlit theme for light and dark.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.bench.report import format_median_iqr, format_seconds
from core.lessons.anatomy import AXIS_CHOICES, JAXPR_EXAMPLES, PLAYGROUND_FUNCTIONS
from core.views.anatomy import jaxpr_texts, playground_arrays
from ui.export import data_source, reproduce_control
from ui.state.settings import Settings
from ui.state.url import bound, url_keys

__all__ = ["URL", "timing_bars", "timing_text", "late_binding_chart", "forms_table", "forms_chart", "late_table",
           "matmul_table", "playground", "jaxprs"]

# The vmap anatomy page's URL names: the playground's function, shapes and axes; the jaxpr example.
URL = url_keys("anatomy", fn="w_anatomy_fn", shape_a="w_anatomy_shape_a", shape_b="w_anatomy_shape_b",
               in_a="w_anatomy_in_a", in_b="w_anatomy_in_b", out="w_anatomy_out", jaxpr="w_anatomy_jaxpr")

LATE_TABLE_ROWS = 8


def timing_text(record, prefix: str = "") -> str:
    """A view's timing record as `format_timing` writes it: "1.2 ms (IQR 0.10 ms, 7 runs)".

    Args:
      record: one row of a timing table, with fields <prefix>median_s, <prefix>q25_s,
        <prefix>q75_s and <prefix>repeats.
    """
    return format_median_iqr(record[f"{prefix}median_s"],
                             record[f"{prefix}q75_s"] - record[f"{prefix}q25_s"],
                             int(record[f"{prefix}repeats"]))


def forms_table(view: dict[str, np.ndarray]) -> pd.DataFrame:
    """The four forms of predict: agreement, first call, median as written and compiled."""
    t = view["predict_timings"]
    jitted = np.isfinite(t["jit_median_s"])
    return pd.DataFrame({
        "form": list(view["predict_forms"]),
        "max |Δ| to in_axes form": [f"{v:.3g}" for v in view["predict_max_abs_diff"]],
        "agrees": ["yes" if ok else "NO" for ok in view["predict_agrees"]],
        "first call (one run)": [format_seconds(v, 2) for v in t["first_call_s"]],
        "median (as written)": [timing_text(r) for r in t],
        "jit: compile (one run)": [format_seconds(r["jit_compile_s"], 2) if j else "—"
                                   for r, j in zip(t, jitted)],
        "jit: median": [timing_text(r, "jit_") if j else "—" for r, j in zip(t, jitted)],
    })


def forms_chart(view: dict[str, np.ndarray], rows: int) -> go.Figure:
    """Time per call of each form as written, then of each compiled one ("jit(<form>)")."""
    t = view["predict_timings"]
    jitted = np.isfinite(t["jit_median_s"])
    labels = list(t["form"]) + [f"jit({f})" for f in t["form"][jitted]]
    medians = np.concatenate([t["median_s"], t["jit_median_s"][jitted]])
    spreads = np.concatenate([t["q75_s"] - t["q25_s"], (t["jit_q75_s"] - t["jit_q25_s"])[jitted]])
    return timing_bars(labels, medians, f"Time per call on {rows:,} rows (median; bars show the "
                       "spread)", spreads, height=360)


def late_table(view: dict[str, np.ndarray]) -> pd.DataFrame:
    """The late-binding demo's first points: before, partial and lambda after, new params."""
    m = min(view["late_before"].shape[0], LATE_TABLE_ROWS)
    return pd.DataFrame({
        "point": np.arange(m),
        "before": view["late_before"][:m],
        "partial, after": view["late_partial_after"][:m],
        "lambda, after": view["late_lambda_after"][:m],
        "predict(new params)": view["late_new_params_reference"][:m],
    })


def matmul_table(view: dict[str, np.ndarray]) -> pd.DataFrame:
    """vv -> mv -> mm -> vmap_matmul: each stage's call, shapes and distance to `@`."""
    return pd.DataFrame({
        "stage": list(view["matmul_stage"]),
        "call": list(view["matmul_call"]),
        "inputs": list(view["matmul_inputs"]),
        "output shape": [s if s != "()" else "() scalar" for s in view["matmul_output_shape"]],
        "max |Δ| to @": [f"{v:.3g}" for v in view["matmul_max_abs_diff"]],
    })


def _axis(v) -> str:
    return "None" if v is None else str(v)


@st.fragment
def playground(settings: Settings, export_note: str) -> None:
    """Section 2: f, shapes and axes chosen; JAX's output shape or its own refusal.

    A fragment: a new choice reruns only this section, and the export follows it.
    """
    st.header("2. in_axes and out_axes")
    st.markdown(
        "`in_axes` says, per argument, which axis is the batch (None: the argument is shared, "
        "not batched); `out_axes` says where the batch axis goes in the output. Pick a "
        "function and shapes; JAX traces the call (shapes only, nothing is computed) and "
        "either reports the output shape or refuses with its own message. JAX only checks "
        "that the mapped axes agree: when f gets a scalar where it was written for a vector, "
        "it broadcasts without an error, and the page says so."
    )
    fn_name = bound(st.selectbox, "f(a, b)", list(PLAYGROUND_FUNCTIONS),
                    format_func=lambda k: PLAYGROUND_FUNCTIONS[k][0], key=URL.fn)
    c1, c2, c3, c4, c5 = st.columns([2, 2, 2, 2, 2])
    text_a = bound(c1.text_input, "shape of a", "5, 3", key=URL.shape_a,
                   help="Whole numbers separated by commas; empty for a scalar.")
    text_b = bound(c2.text_input, "shape of b", "3", key=URL.shape_b)
    ax_a = bound(c3.radio, "in_axes for a", AXIS_CHOICES, format_func=_axis, key=URL.in_a,
                 horizontal=True)
    ax_b = bound(c4.radio, "in_axes for b", AXIS_CHOICES, index=2, format_func=_axis,
                 key=URL.in_b, horizontal=True)
    out = bound(c5.radio, "out_axes", (0, 1), key=URL.out, horizontal=True)
    reproduce_control("anatomy", data_source(settings), dict(
        seed=int(settings.seed), fn_name=fn_name, shape_a=text_a, shape_b=text_b,
        in_axes=(ax_a, ax_b), out_axes=int(out)), notes=[export_note])
    view = playground_arrays(fn_name, text_a, text_b, (ax_a, ax_b), out, settings.dtype)
    for error in view.get("playground_shape_errors", ()):
        st.error(str(error), icon=":material/error:")
    if "playground_code" not in view:
        return
    a, b = view["playground_input_shapes"]
    st.code(f"a.shape = {a}; b.shape = {b}\n{view['playground_code']}", language="python")
    if "playground_error" in view:
        st.error(f"JAX refused: {view['playground_error']}", icon=":material/block:")
        st.caption("This is JAX's own message. Typical causes: two mapped axes of different "
                   "lengths, an axis past the array's rank, every in_axes None, or shapes "
                   "f cannot combine for one example.")
        return
    shape = tuple(int(s) for s in view["playground_shape"])
    if view["playground_rank_notes"].size:
        st.warning(f"Output shape: {shape}, and no error, but f did not get what it "
                   "was written for:\n\n"
                   + "\n\n".join(f"- {note}" for note in view["playground_rank_notes"]),
                   icon=":material/warning:")
    else:
        st.success(f"Output shape: {shape}", icon=":material/check_circle:")
    seen = ", ".join(f"{nm}: {s}" for nm, s in zip("ab", view["playground_per_example_in"]))
    st.markdown(
        f"f itself sees one example, {seen}, and returns shape "
        f"{view['playground_per_example_out']}. vmap runs it for each of the "
        f"**{int(view['playground_batch_size'])}** positions along the mapped axis and puts "
        f"that axis at position {out} of the output: {shape}."
    )


@st.fragment
def jaxprs(n: int, d: int, dtype: str) -> None:
    """Section 3: the jaxprs of the chosen example, unbatched and batched, side by side."""
    st.header("3. What vmap does to the program")
    st.markdown(
        "`jax.make_jaxpr` shows the program JAX traced. vmap does not add a loop: it rewrites "
        "each operation to carry a batch axis, so the batched program has the same steps "
        f"with an extra axis of length N = {n:,} (look at the shapes, e.g. f32[{d}] → "
        f"f32[{n},{d}])."
    )
    name = bound(st.radio, "Example", list(JAXPR_EXAMPLES), format_func=lambda k: JAXPR_EXAMPLES[k][0],
                 key=URL.jaxpr, horizontal=True)
    label, plain_code, batched_code, _ = JAXPR_EXAMPLES[name]
    view = jaxpr_texts(name, n, d, dtype)
    left, right = st.columns(2)
    left.markdown(f"**Unbatched**: `{plain_code}`")
    left.code(str(view[f"jaxpr_{name}_plain"]), language=None)
    right.markdown(f"**Batched**: `{batched_code}`")
    right.code(str(view[f"jaxpr_{name}_batched"]), language=None)


def timing_bars(labels: Sequence[str], medians_s: Sequence[float], title: str,
                spreads_s: Sequence[float] | None = None, height: int = 320) -> go.Figure:
    """Horizontal bars of median run times on a log axis, fastest at the top.

    Args:
      labels: one name per bar.
      medians_s: median seconds per call, same length.
      title: the chart title.
      spreads_s: interquartile ranges in seconds, drawn as error bars (± half the
        IQR) and given on hover; optional.
    """
    med = np.asarray(medians_s, dtype=np.float64)
    order = np.argsort(med)[::-1]  # Plotly draws the first bar at the bottom
    names = np.asarray(labels, dtype=object)[order]
    text = np.asarray([format_seconds(v, 2) for v in med[order]], dtype=object)  # 2 sig. figures
    error = None
    if spreads_s is not None:
        error = dict(type="data", array=np.asarray(spreads_s, dtype=np.float64)[order] / 2,
                     visible=True)
    fig = go.Figure(go.Bar(
        x=med[order], y=names, orientation="h", text=text, textposition="auto", error_x=error,
        customdata=text if spreads_s is None else np.asarray(
            [f"{t} (IQR {format_seconds(v, 2)})" for t, v in
             zip(text, np.asarray(spreads_s, dtype=np.float64)[order])], dtype=object),
        hovertemplate="%{y}<br>median %{customdata} per call<extra></extra>",
    ))
    fig.update_layout(title=title, height=height, margin=dict(l=10, r=10, t=50, b=10),
                      xaxis=dict(title="median time per call (seconds, log scale)", type="log"),
                      yaxis=dict(title=None, automargin=True))
    return fig


def late_binding_chart(before: np.ndarray, partial_after: np.ndarray, lambda_after: np.ndarray,
                       new_reference: np.ndarray, title: str) -> go.Figure:
    """Predictions per point: before the rebinding, and each batched function after it.

    Args:
      before, partial_after, lambda_after, new_reference: shape (M,) each.
    """
    idx = np.arange(before.shape[0])
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=idx, y=before, mode="lines", name="before (partial = lambda)",
                             line=dict(width=6, color="#9aa0a6"),
                             hovertemplate="point %{x}<br>before: %{y:.4f}<extra></extra>"))
    fig.add_trace(go.Scatter(x=idx, y=new_reference, mode="lines", name="predict with the new params",
                             line=dict(width=6, color="#f2b134"),
                             hovertemplate="point %{x}<br>new params: %{y:.4f}<extra></extra>"))
    fig.add_trace(go.Scatter(x=idx, y=partial_after, mode="markers", name="partial, after",
                             marker=dict(symbol="circle-open", size=9, line=dict(width=2),
                                         color="#1f77b4"),
                             hovertemplate="point %{x}<br>partial after: %{y:.4f}<extra></extra>"))
    fig.add_trace(go.Scatter(x=idx, y=lambda_after, mode="markers", name="lambda, after",
                             marker=dict(symbol="x", size=8, color="#d62728"),
                             hovertemplate="point %{x}<br>lambda after: %{y:.4f}<extra></extra>"))
    # The legend at the bottom of the figure (yref "container") under a margin that holds
    # two rows of it: placed in plot fractions (y = -0.2) it sat on the x-axis title.
    fig.update_layout(title=title, height=400, margin=dict(l=10, r=10, t=50, b=80),
                      xaxis_title="point index i", yaxis_title="prediction tanh(w·xᵢ + b)",
                      legend=dict(orientation="h", yref="container", y=0, yanchor="bottom"))
    return fig
