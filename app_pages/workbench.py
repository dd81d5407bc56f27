"""Workbench: your own kernel, written for one pair of vectors, batched by vmap."""

from __future__ import annotations

import streamlit as st

from core.views.gram import display_order
from core.views.workbench import pooled_frame
from core.workbench.run import start_workers, time_ways, workbench_view
from ui.state.cache import heuristic_gamma, load_data
from core.export import user_kernel_cell
from ui.charts.shared import matrix_heatmap
from ui.export import data_source, reproduce_control
from ui.components.live_heatmap import frames_payload, live_heatmap, pooled_exact_payload
from ui.state.sidebar import gamma_slider, hand_released_gamma, render_sidebar
from ui.workbench import (FRAME_SIDE, LIVE_KEY, checked, example_menu, findings_view, frame_gammas,
                          param_controls, result_or_refusal, source_box,
                          timings_table, ways_table)

start_workers()  # the worker processes import JAX while this page draws (once per server)
settings = render_sidebar(gamma_in_page=True, uses=frozenset({"data", "seed", "precision"}))
data = load_data(settings)
n, d = data.X.shape
order = display_order(data.y, True, n)  # as the export's workbench_arrays orders them
X = data.X[order]  # display order: classes show as blocks

st.title("Workbench")
st.markdown(
    "Write a kernel for **one pair** of vectors, `k(params, x, y)` with x and y of shape (D,), "
    "as the notes do; the app batches it with `vmap` three ways on the current data "
    f"(**{data.name}**, X of shape ({n:,}, {d}), {settings.dtype}), checks that they agree, "
    "draws its Gram matrix, shows the jaxpr before and after `vmap`, names what batching did "
    "to your function, and times it next to the built-in RBF.")
example_menu()
source = source_box()
source_ok = checked(source)
if source_ok is None:
    st.stop()
params = param_controls(source_ok.param_names)
uses_gamma = "gamma" in source_ok.param_names
key = (source_ok.source, data.key, settings.dtype, tuple(sorted(params.items())))


@st.fragment
def kernel_view() -> None:
    # Only this fragment reruns when gamma is released on the heatmap.
    st.subheader("The Gram matrix of your kernel")
    gamma = gamma_slider(st, settings, shown=False) if uses_gamma else None
    current = dict(params, gamma=gamma) if uses_gamma else params
    frames = None
    if uses_gamma:  # once per source, data and parameters: K at a grid of gammas, and at this one
        gammas = frame_gammas(heuristic_gamma(settings))
        first = result_or_refusal(("frames",) + key, lambda: (gamma, workbench_view(
            source_ok.source, X, current, settings.dtype, gammas=gammas, side=FRAME_SIDE, fast=True)))
        if first is None:
            return
        first_gamma, frames = first
    quick = frames if frames is not None and first_gamma == gamma else result_or_refusal(
        ("quick", gamma) + key, lambda: workbench_view(source_ok.source, X, current, settings.dtype,
                                                       fast=True))
    if quick is None:
        return
    if frames is not None and frames.frames is not None:
        pooled = pooled_frame(quick.K)
        live_heatmap(frames_payload(frames.frames, frames.gammas, n, frames.factor, order),
                     pooled_exact_payload(pooled["K_pooled"], int(pooled["factor"]), n, gamma, 1.0, -1,
                                          [], token=0),
                     key=LIVE_KEY, on_gamma=lambda: hand_released_gamma(LIVE_KEY), on_picked=lambda: None)
        st.caption(f"Drag gamma: the heatmap follows in your browser from {len(frames.gammas)} "
                   "matrices computed at once (one more `vmap`, over gamma); on release the exact "
                   "K of that gamma replaces the preview. Rows and columns in label order.")
    else:
        if frames is not None and frames.frames_refused:
            st.caption("No live preview over gamma for this kernel; why:")
            st.code(frames.frames_refused, language=None, wrap_lines=True)
        fig, factor = matrix_heatmap(quick.K, "K, rows and columns in label order", "k")
        st.plotly_chart(fig, key="w_wb_heatmap")
    reproduce_control("workbench", data_source(settings), {
        "params": {k: float(v) for k, v in current.items()},
        "default_gamma": float(heuristic_gamma(settings)) if uses_gamma else None},
        notes=["Your kernel, written for one pair of vectors, batched by `vmap` three ways "
               "(`K` by Method I, `K_method_two`, `K_pair_list`) on the sidebar's data in label "
               "order, pooled K over a grid of gammas (`frames`), and each way timed anew on "
               "your machine (`timings`, also as CSV)."],
        extra_cells=[user_kernel_cell(source_ok.source)])
    st.markdown(f"Shapes: x {quick.shapes['x']}, y {quick.shapes['y']} → k {quick.shapes['k']}; "
                f"nested `vmap` → K {quick.shapes['K']}. Symmetric to {quick.asymmetry:.1e}; "
                f"smallest eigenvalue {quick.min_eigenvalue:.3g} ({quick.definiteness}).")
    view = result_or_refusal(("view", gamma) + key, lambda: workbench_view(
        source_ok.source, X, current, settings.dtype),
        "Batching it the other ways and reading what vmap made of it…")
    if view is None:
        return
    st.subheader("Three ways to batch it, checked against each other")
    st.dataframe(ways_table(view.ways, settings.dtype), hide_index=True, key="w_wb_ways")
    st.subheader("What vmap made of it")
    findings_view(view.findings)
    left, right = st.columns(2)
    with left:
        st.markdown("**The jaxpr for one pair** (x, y of shape (D,))")
        st.code(view.jaxpr_pair, language=None)
    with right:
        st.markdown("**After nested `vmap`** (X of shape (N, D) against itself)")
        st.code(view.jaxpr_batched, language=None)
    st.subheader("What each way costs")
    timings = result_or_refusal(("time", gamma) + key, lambda: time_ways(
        source_ok.source, X, current, settings.dtype), "Timing each way and the built-in RBF on these data…")
    if timings is None:
        return
    st.dataframe(timings_table(timings, "built-in RBF"), hide_index=True, key="w_wb_times")
    st.caption("Each program compiled once (compile column, apart), then called until its "
               "time budget ran out; the median and the fastest and slowest call are shown. "
               "Timings share this machine with everything else on it: compare ratios.")


kernel_view()
