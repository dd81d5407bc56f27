"""Gradients: vmap(grad) for per-sample gradients, a kernel's gradient field, ds/dgamma.

Every number comes from a section of `core.views.gradients` (the export's
`gradients_view` is all of them).
"""

from __future__ import annotations

import inspect

import numpy as np
import streamlit as st

from core.bench.report import format_load, format_ratio_interval, format_seconds
from core.kernels.functions import KERNELS
from core.lessons.predict import per_sample_grads, per_sample_grads_loop, per_sample_grads_loop_jit
from core.views.gradients import (SUMMARY_MAX_POINTS, gamma_curve, gamma_span, kernel_has_gamma,
                                  norm_projection, per_sample_gradients, sample_targets)
from ui.charts.anatomy import timing_text
from ui.charts.gradients import (URL, field_section, gradient_norm_scatter, gradient_timing_chart,
                                 norm_axis_titles, summary_derivative_chart, summary_value_chart)
from ui.charts.shared import value_histogram
from ui.state.cache import heuristic_gamma, load_data
from ui.state.sidebar import render_sidebar
from ui.state.url import bound

LOOP_ROW_CHOICES = (25, 50, 100, 200, 500)
GRADIENTS_EXPORT_NOTE = (
    "Per-sample gradients of the notes' squared loss by `vmap(grad)` and by a loop of `grad` "
    "(`grads_vmap_*`, `grads_loop_*`: equal to round-off; `grad_timings` measured on your "
    "machine), every row's gradient norm, the kernel's gradient field around the centre point "
    "(2-D data), and s(γ) with ds/dγ by `grad` (`curve_*`).")


@st.cache_data(max_entries=16, show_spinner=False)
def _curve(data_key: tuple, kernel_name: str, fixed: tuple, lo: float, hi: float, count: int,
           _X: np.ndarray) -> dict[str, np.ndarray]:
    return gamma_curve(kernel_name, dict(fixed), _X, lo, hi, count)


settings = render_sidebar()
data = load_data(settings)
n, d = data.X.shape
kernel = KERNELS[settings.kernel]

st.title("Gradients")
st.markdown(
    "`jax.grad` differentiates a function with a **scalar** output, so it sees one sample, "
    "one point or one gamma at a time. `vmap` is how it gets a whole batch: "
    "`vmap(grad(f))` gives one gradient per example without a Python loop. Three uses, on "
    f"**{data.name}** (X: ({n:,}, {d}), {settings.dtype})."
)

# --- 1. per-sample gradients ---------------------------------------------------------
st.header("1. Per-sample gradients: a loop of grad against vmap(grad)")
targets = sample_targets(data.X, data.y, seed=settings.seed)
st.markdown(
    "The loss of the notes' model on one sample, `(predict(params, x) − t)²`, is a scalar, so "
    "`grad` applies; `vmap(grad(loss), in_axes=(None, 0, 0))` maps it over the rows of X "
    f"and the targets. Targets: {targets['targets_text']}. "
    f"`params = init_params(D, seed={settings.seed})`."
)
loop_rows = bound(
    st.select_slider, "Rows for the loop of grad", LOOP_ROW_CHOICES, value=100, key=URL.loop_rows,
    help="A Python loop calls grad once per row, tracing it anew each time: a few "
         "milliseconds per row. The other three variants are timed on the same rows.")
rows = min(n, loop_rows)
# Filled at the end of the page: the four ways are timed once everything else is drawn.
grads_slot = st.container()

# --- 2. gradient field (a fragment: the export follows its centre point) ---------------
field_section(settings, data.X, data.name, loop_rows, heuristic_gamma(settings),
              GRADIENTS_EXPORT_NOTE)

# --- 3. ds/dgamma ------------------------------------------------------------------
st.header("3. How K changes with gamma: ds/dγ by grad")
if not kernel_has_gamma(settings.kernel):
    st.info(f"The {kernel.label} kernel has no gamma. Choose a kernel with gamma (RBF, say) in "
            "the sidebar to see this section.", icon=":material/info:")
else:
    st.markdown(
        "One number that summarises K: its mean off-diagonal entry "
        "s(γ) = mean over i ≠ j of k(xᵢ, xⱼ). `jax.grad` differentiates it with respect to γ "
        "through the whole Gram matrix, and `vmap` batches that over a range of gammas. "
        "The markers are central finite differences, as a check. For RBF, "
        "ds/dγ = −mean(d²ᵢⱼ e^(−γ d²ᵢⱼ)): −mean(d²) at γ → 0, fading to 0 once γ is well "
        "past 1 / (typical d²), where every off-diagonal entry has already vanished."
    )
    fixed = tuple(sorted((k, v) for k, v in settings.params.items() if k != "gamma"))
    with st.spinner("Differentiating K over the gamma range …"):
        curve = _curve(data.key, settings.kernel, fixed,
                       *gamma_span(heuristic_gamma(settings), settings.gamma), data.X)
    left, right = st.columns(2)
    left.plotly_chart(summary_value_chart(curve["curve_gammas"], curve["curve_values"],
                                          settings.gamma, "s(γ): mean off-diagonal kernel value"),
                      key="w_grad_summary_chart")
    right.plotly_chart(summary_derivative_chart(curve["curve_gammas"], curve["curve_derivative"],
                                                curve["curve_finite_difference"], settings.gamma,
                                                "ds/dγ: jax.grad and finite differences"),
                       key="w_grad_derivative_chart")
    c1, c2 = st.columns(2)
    c1.metric("max |grad − finite difference| / max |grad|",
              f"{curve['curve_max_relative_gap']:.2g}",
              help="The finite-difference step is γ·ε^(1/3), ε the dtype's round-off.")
    c2.metric("Points used", f"{int(curve['curve_n_used']):,}",
              help=f"A seeded subsample above {SUMMARY_MAX_POINTS}: K is N×N for every gamma.")
    st.caption("Move gamma in the sidebar: the dashed line follows it. Where the two disagree "
               "it is the finite difference that is off, not grad: in float32, s(γ + h) and "
               "s(γ − h) are two numbers near 1 that differ only in their last digits at small γ, "
               "and subtracting them loses those digits.")

# --- 1, timed last: the four ways in the slot kept for them above -------------------
with grads_slot:
    key = (data.key, settings.seed, rows)
    held = st.session_state.get("_grad_compare")
    if held is None or held[0] != key:
        # Every progress update is also where Streamlit abandons this run if a control changes.
        bar = st.progress(0.0, text="Timing …")
        grads = per_sample_gradients(data.X, targets["targets"], seed=settings.seed, loop_rows=rows,
                                     budget_s=0.5,
                                     on_progress=lambda f, label: bar.progress(f, text=label))
        bar.empty()
        st.session_state["_grad_compare"] = (key, grads)
    else:
        grads = held[1]
    loop, by_vmap, loop_jit, vmap_jit = grads["grad_timings"]

    # One row that wraps, each metric as wide as its text: in four columns the timings
    # (median, IQR, runs) were cut off at 800 px.
    row = st.container(horizontal=True, gap="medium")
    row.metric("max |loop − vmap|", f"{grads['grad_max_abs_diff']:.3g}",
               help="Over every entry of dw (rows × D) and db (rows) on the timed rows, both loops "
                    "against jit(vmap(grad)).", width="content")
    row.metric("Loop of jit(grad)", timing_text(loop_jit),
               help="jit(grad(loss)) compiled once for one sample, then called once per row from "
                    "Python. Median, interquartile range (IQR) and the number of timed runs.",
               width="content")
    row.metric("jit(vmap(grad))", timing_text(vmap_jit),
               help=f"One compiled call for all rows; compiled once first, in "
                    f"{format_seconds(vmap_jit['compile_s'], 2)}.", width="content")
    row.metric("Speedup, both compiled", format_ratio_interval(*grads["grad_speedup"]),
               help="The four ways run in turn, round by round, so load on the machine falls on "
                    "all alike: the median of the per-round ratios loop of jit(grad) / "
                    "jit(vmap(grad)), and its 95 % interval.",
               width="content")
    st.caption(f"Without jit, like with like: a loop of grad takes {timing_text(loop)}, "
               f"vmap(grad) {timing_text(by_vmap)}; the loop over vmap: "
               f"{format_ratio_interval(*grads['grad_speedup_eager'])}. Comparing the eager "
               "loop with the compiled vmap would mix two effects (batching and compiling) in one "
               "number. " + format_load(float(grads["grad_other_cores"])))
    if grads["grad_agrees"]:
        st.success(f"Equal: the loops and vmap(grad) give the same {int(grads['grad_rows'])} "
                   "gradients (to round-off).", icon=":material/check_circle:")
    else:
        st.error("The loops and vmap(grad) disagree by more than round-off.", icon=":material/error:")
    if rows < n:
        st.info(f"The loops ran on the first {rows:,} of {n:,} rows: at "
                f"{format_seconds(grads['grad_loop_per_row_s'], 2)} per row, a loop of grad over "
                f"all {n:,} would take about {format_seconds(grads['grad_loop_all_rows_s'], 2)}. The "
                "gradient norms below cover every row (jit(vmap(grad)) on all of them).",
                icon=":material/info:")
    left, right = st.columns(2)
    with left:
        st.plotly_chart(gradient_timing_chart(grads), key="w_grad_timing_chart")
        st.caption("vmap(grad) without jit traces grad once per call, the loop once per row; "
                   "jit traces each once, ever, so the compiled pair differs only in N calls "
                   "from Python against one.")
    with right:
        projection = norm_projection(data.X)
        st.plotly_chart(gradient_norm_scatter(projection["norm_points"], grads["grad_norms"],
                                              "Per-sample gradient norm of every point",
                                              norm_axis_titles(projection, d)),
                        key="w_grad_norm_chart")
        st.caption("A sample's gradient is 2·(prediction − target)·(1 − tanh²)·(x, 1): large where "
                   "the residual is large and tanh is not saturated. A point already fitted pulls "
                   "little, and so does one predicted wrongly with a saturated tanh.")
    with st.expander("The code that just ran"):
        st.code("\n\n".join(inspect.getsource(f) for f in (
            per_sample_grads, per_sample_grads_loop, per_sample_grads_loop_jit)), language="python")
        st.plotly_chart(value_histogram(grads["grad_norms"], "Per-sample gradient norms", "‖∇ loss‖"),
                        key="w_grad_norm_hist")
