"""Gradients: vmap(grad) for per-sample gradients, a kernel's gradient field, ds/dgamma."""

from __future__ import annotations

import inspect

import numpy as np
import streamlit as st

from core.lessons.gradients import (
    compare_per_sample_grads,
    field_grid,
    gamma_range,
    kernel_gradient_field,
    kernel_values,
    rbf_gradient,
    regression_targets,
)
from core.kernels.functions import KERNELS
from core.precision import dtype_scope
from core.lessons.predict import (
    init_params,
    per_sample_grads,
    per_sample_grads_loop,
    per_sample_grads_loop_jit,
)
from core.lessons.projection import pca_2d
from core.bench.report import format_ratio, format_seconds, format_timing
from ui.charts.anatomy import timing_bars
from ui.state.cache import heuristic_gamma, load_data
from ui.charts.shared import value_histogram
from ui.charts.gradients import (
    gradient_field_chart,
    gradient_norm_scatter,
    summary_derivative_chart,
    summary_value_chart,
)
from core.views.gradients import ARROW_SIDE, SUMMARY_MAX_POINTS, SURFACE_SIDE, gamma_curve
from ui.export import data_source, reproduce_control
from ui.state.sidebar import render_sidebar
from ui.state.url import bound

LOOP_ROW_CHOICES = (25, 50, 100, 200, 500)

settings = render_sidebar()
data = load_data(settings)
n, d = data.X.shape
kernel = KERNELS[settings.kernel]
has_gamma = any(p.name == "gamma" for p in kernel.params)
GRADIENTS_EXPORT_NOTE = (
    "Per-sample gradients of the notes' squared loss by `vmap(grad)` and by a loop of `grad` "
    "(`grads_vmap_*`, `grads_loop_*`: equal to round-off; `grad_timings` measured on your "
    "machine), every row's gradient norm, the kernel's gradient field around the centre point "
    "(2-D data), and s(γ) with ds/dγ by `grad` (`curve_*`).")

st.title("Gradients")
st.markdown(
    "`jax.grad` differentiates a function with a **scalar** output, so it sees one sample, "
    "one point or one gamma at a time. `vmap` is how it gets a whole batch: "
    "`vmap(grad(f))` gives one gradient per example without a Python loop. Three uses, on "
    f"**{data.name}** (X: ({n:,}, {d}), {settings.dtype})."
)

# --- 1. per-sample gradients ---------------------------------------------------------
st.header("1. Per-sample gradients: a loop of grad against vmap(grad)")
targets, target_text = regression_targets(data.X, data.y, settings.seed)
params = init_params(d, settings.seed, dtype=np.dtype(settings.dtype).type)
st.markdown(
    "The loss of the notes' model on one sample, `(predict(params, x) − t)²`, is a scalar, so "
    "`grad` applies; `vmap(grad(loss), in_axes=(None, 0, 0))` maps it over the rows of X "
    f"and the targets. Targets: {target_text}. `params = init_params(D, seed={settings.seed})`."
)
loop_rows = bound(
    st.select_slider, "Rows for the loop of grad", LOOP_ROW_CHOICES, value=100, key="w_grad_loop_rows",
    help="A Python loop calls grad once per row, tracing it anew each time: a few "
         "milliseconds per row. The other three variants are timed on the same rows.")
rows = min(n, loop_rows)
key = (data.key, settings.seed, rows)
cached = st.session_state.get("_grad_compare")
if cached is None or cached[0] != key:
    # Every progress update is also where Streamlit abandons this run if a control changes.
    bar = st.progress(0.0, text="Timing …")
    with dtype_scope(settings.dtype):
        result = compare_per_sample_grads(params, data.X, targets, loop_rows=rows, budget_s=0.5,
                                          on_progress=lambda f, label: bar.progress(f, text=label))
    bar.empty()
    st.session_state["_grad_compare"] = (key, result)
else:
    result = cached[1]

# One row that wraps, each metric as wide as its text: in four columns the timings
# (median, IQR, runs) were cut off at 800 px.
row = st.container(horizontal=True, gap="medium")
row.metric("max |loop − vmap|", f"{result.max_abs_diff:.3g}",
           help="Over every entry of dw (rows × D) and db (rows) on the timed rows, both loops "
                "against jit(vmap(grad)).", width="content")
row.metric("Loop of jit(grad)", format_timing(result.loop_jit),
           help="jit(grad(loss)) compiled once for one sample, then called once per row from "
                "Python. Median, interquartile range (IQR) and the number of timed runs.",
           width="content")
row.metric("jit(vmap(grad))", format_timing(result.vmap_jit),
           help=f"One compiled call for all rows; compiled once first, in "
                f"{format_seconds(result.vmap_jit.compile_s, 2)}.", width="content")
row.metric("Speedup, both compiled", format_ratio(result.loop_jit, result.vmap_jit),
           help="Loop of jit(grad) median / jit(vmap(grad)) median; the range pairs each "
                "timing's quartiles (slow 25th / fast 75th to slow 75th / fast 25th).",
           width="content")
st.caption(f"Without jit, like with like: a loop of grad takes {format_timing(result.loop)}, "
           f"vmap(grad) {format_timing(result.vmap)}: "
           f"{format_ratio(result.loop, result.vmap)} faster. Comparing the eager loop with "
           "the compiled vmap would mix two effects (batching and compiling) in one number.")
if result.agrees:
    st.success(f"Equal: the loops and vmap(grad) give the same {result.rows} gradients "
               "(to round-off).", icon=":material/check_circle:")
else:
    st.error("The loops and vmap(grad) disagree by more than round-off.", icon=":material/error:")
if rows < n:
    per_row = result.loop.median_s / rows
    st.info(f"The loops ran on the first {rows:,} of {n:,} rows: at "
            f"{format_seconds(per_row, 2)} per row, a loop of grad over all {n:,} would take "
            f"about {format_seconds(per_row * n, 2)}. The gradient norms below cover every row "
            "(jit(vmap(grad)) on all of them).", icon=":material/info:")
left, right = st.columns(2)
with left:
    timings = {f"loop of grad ({rows} rows)": result.loop,
               f"vmap(grad) ({rows} rows)": result.vmap,
               f"loop of jit(grad) ({rows} rows)": result.loop_jit,
               f"jit(vmap(grad)) ({rows} rows)": result.vmap_jit}
    st.plotly_chart(timing_bars(list(timings), [t.median_s for t in timings.values()],
                                "Per-sample gradients: time per call (median; bars: IQR)",
                                [t.spread_s for t in timings.values()]),
                    key="w_grad_timing_chart")
    st.caption("vmap(grad) without jit traces grad once per call, the loop once per row; "
               "jit traces each once, ever, so the compiled pair differs only in N calls "
               "from Python against one.")
with right:
    Z, explained = pca_2d(data.X)
    axis = ("x₁", "x₂") if d <= 2 else (f"PC 1 ({explained[0]:.0%} of variance)",
                                         f"PC 2 ({explained[1]:.0%})")
    st.plotly_chart(gradient_norm_scatter(Z, result.norms, "Per-sample gradient norm of every "
                                          "point", axis), key="w_grad_norm_chart")
    st.caption("A sample's gradient is 2·(prediction − target)·(1 − tanh²)·(x, 1): large where "
               "the residual is large and tanh is not saturated. A point already fitted pulls "
               "little, and so does one predicted wrongly with a saturated tanh.")
with st.expander("The code that just ran"):
    st.code("\n\n".join(inspect.getsource(f) for f in (
        per_sample_grads, per_sample_grads_loop, per_sample_grads_loop_jit)), language="python")
    st.plotly_chart(value_histogram(result.norms, "Per-sample gradient norms", "‖∇ loss‖"),
                    key="w_grad_norm_hist")


# --- 2. gradient field --------------------------------------------------------------
@st.fragment
def gradient_field() -> None:
    st.header("2. The gradient field of the kernel")
    center_index = (bound(st.slider, "Centre point (index into X)", 0, n - 1, 0, key="w_grad_center")
                    if d == 2 else 0)
    # Here, in the fragment, so the export follows the centre point as it moves.
    reproduce_control("gradients", data_source(settings), dict(
        seed=int(settings.seed), kernel=settings.kernel, params=dict(settings.params),
        loop_rows=int(loop_rows), center_index=int(center_index),
        default_gamma=float(heuristic_gamma(settings))), notes=[GRADIENTS_EXPORT_NOTE])
    if d != 2:
        st.info(f"The field is drawn for 2-D data only: {data.name} has D = {d} features, and "
                "arrows in a 2-D projection would not be the gradient. Choose Blobs, Two moons, "
                "Circles or Uniform square in the sidebar.", icon=":material/info:")
        return
    st.markdown(
        f"For a centre point c, `vmap(grad(lambda x: k(params, x, c)))` over a grid gives "
        f"∇ₓk(x, c) at every grid point: the direction in which the {kernel.label} kernel's "
        "similarity to c grows fastest. It points towards c and vanishes at c itself."
    )
    center = data.X[center_index]
    xs, ys, surface_points = field_grid(data.X, SURFACE_SIDE)
    _, _, arrow_points = field_grid(data.X, ARROW_SIDE)
    with dtype_scope(settings.dtype):
        surface = np.asarray(kernel_values(kernel.fn, settings.params, center, surface_points))
        field = np.asarray(kernel_gradient_field(kernel.fn, settings.params, center, arrow_points))
        at_center = np.asarray(kernel_gradient_field(kernel.fn, settings.params, center, center[None]))[0]
    fig = gradient_field_chart(xs, ys, surface.reshape(SURFACE_SIDE, SURFACE_SIDE), arrow_points,
                               field, center, data.X,
                               f"∇ₓ k(x, c) around point {center_index} ({kernel.label})")
    st.plotly_chart(fig, key="w_grad_field_chart")
    c1, c2 = st.columns(2)
    # + 0.0 turns a signed zero into 0: "-0" would read as a (tiny) negative gradient.
    c1.metric("∇ₓk at x = c", f"({at_center[0] + 0.0:.3g}, {at_center[1] + 0.0:.3g})",
              help="Zero for the smooth kernels: the kernel peaks at c.")
    if settings.kernel == "rbf":
        gap = float(np.max(np.abs(field - rbf_gradient(settings.gamma, center, arrow_points))))
        c2.metric("max |vmap(grad) − (−2γ(x − c)k)|", f"{gap:.3g}",
                  help="Against the RBF gradient in closed form.")
    elif settings.kernel == "laplacian":
        c2.caption("The Laplacian kernel has a kink at c: there `grad` returns one of its "
                   "subgradients, not zero.")
    st.caption(f"Arrows on a {ARROW_SIDE}×{ARROW_SIDE} grid, scaled together so the longest "
               "fills one grid cell; hover an arrow's tail for its value.")


gradient_field()


# --- 3. ds/dgamma ------------------------------------------------------------------
@st.cache_data(max_entries=16, show_spinner=False)
def _curve(data_key: tuple, kernel_name: str, fixed: tuple, lo: float, hi: float, count: int,
           _X: np.ndarray):
    return gamma_curve(kernel_name, dict(fixed), _X, lo, hi, count)


st.header("3. How K changes with gamma: ds/dγ by grad")
if not has_gamma:
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
    gammas = gamma_range(heuristic_gamma(settings), settings.gamma)
    fixed = tuple(sorted((k, v) for k, v in settings.params.items() if k != "gamma"))
    with st.spinner("Differentiating K over the gamma range …"):
        curve = _curve(data.key, settings.kernel, fixed, float(gammas[0]), float(gammas[-1]),
                       len(gammas), data.X)
    left, right = st.columns(2)
    left.plotly_chart(summary_value_chart(curve.gammas, curve.values, settings.gamma,
                                          "s(γ): mean off-diagonal kernel value"),
                      key="w_grad_summary_chart")
    right.plotly_chart(summary_derivative_chart(curve.gammas, curve.derivative,
                                                curve.finite_difference, settings.gamma,
                                                "ds/dγ: jax.grad and finite differences"),
                       key="w_grad_derivative_chart")
    c1, c2 = st.columns(2)
    c1.metric("max |grad − finite difference| / max |grad|", f"{curve.max_relative_gap:.2g}",
              help="The finite-difference step is γ·ε^(1/3), ε the dtype's round-off.")
    c2.metric("Points used", f"{curve.n_used:,}",
              help=f"A seeded subsample above {SUMMARY_MAX_POINTS}: K is N×N for every gamma.")
    st.caption("Move gamma in the sidebar: the dashed line follows it. Where the two disagree "
               "it is the finite difference that is off, not grad: in float32, s(γ + h) and "
               "s(γ − h) are two numbers near 1 that differ only in their last digits at small γ, "
               "and subtracting them loses those digits.")
