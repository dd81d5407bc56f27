"""Scale: the Gram matrix of up to a million points, computed in blocks, never held whole.

The block engine (`core.scale`) runs only on a click, under a progress bar with
the time left. Any click or setting change starts a new run of the page, which
abandons the computation between two steps; a result is kept (keyed on every
setting it depends on) only when it finished, and what an abandoned run had done
is shown marked as partial, never as a result.
"""

from __future__ import annotations

import inspect
import time


import jax
import numpy as np
import streamlit as st

from core.scale import (BlockRun, block_step, default_block_shape, plan_blocks, rbf_tile,
                        symmetric_tile)
from core.errors import CoreError, TooLargeError
from core.kernels.functions import median_heuristic_gamma
from core.dense.memory import DENSE_MEMORY_BUDGET_BYTES, check_dense_budget, dense_gram_bytes, format_bytes
from core.dense.methods import get_method, resolve
from core.scale.pooling import pool_mean
from core.scale.synthetic import MAX_SCALE_FEATURES, SCALE_DATASETS, synthetic_points
from core.bench.report import format_seconds
from core.scale import MAX_POOLED_SIDE
from ui.charts.scale import (
    format_count,
    format_duration,
    pooled_heatmap,
    row_sum_histogram,
    row_sum_profile,
)
from ui.export import reproduce_control
from ui.state.sidebar import render_sidebar
from ui.state.url import bound
from ui.state.long_work import interruption_check
from ui.charts.words import counted

N_OPTIONS = (1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000, 200_000, 500_000, 1_000_000)
GAMMA_FACTORS = (0.1, 0.3, 1.0, 3.0, 10.0)
ROWS_OPTIONS = ("auto", 32, 64, 128, 256, 512, 1024, 2048)
PROGRESS_EVERY_S = 0.2  # progress text redraws at most this often
LIVE_HEATMAP_EVERY_S = 3.0  # the partial heatmap redraws at most this often
KEPT_RESULTS = 3
PLATFORM = jax.devices()[0].platform
AUTO_ROWS, AUTO_COLS = default_block_shape(PLATFORM)
ss = st.session_state


@st.cache_data(max_entries=2, show_spinner="Generating the points…")
def points(kind: str, n: int, d: int, seed: int, dtype: str) -> np.ndarray:
    return synthetic_points(kind, n, d, seed, dtype)


@st.cache_data(max_entries=16, show_spinner=False)
def heuristic(kind: str, n: int, d: int, seed: int, dtype: str, _X: np.ndarray) -> float:
    return median_heuristic_gamma(_X)  # on a seeded subsample of 1,000 points


@st.cache_data(max_entries=4, show_spinner="Computing the dense matrix for the check…")
def dense_check(key: tuple, method: str, _X: np.ndarray, gamma: float
                ) -> tuple[np.ndarray, np.ndarray]:
    K = get_method(method).compute(_X, None, gamma)
    return pool_mean(K, MAX_POOLED_SIDE)[0], K.sum(axis=1, dtype=np.float64)


def start_run(key: tuple) -> None:
    ss["_scale_job"] = key
    ss["_scale_results"].pop(key, None)
    ss["_scale_partial"] = None


def progress_text(done: int, total: int, elapsed: float, eta: float | None) -> str:
    left = "estimating the time left…" if eta is None else f"about {format_duration(eta)} left"
    return (f"{done:,} of {total:,} rows ({done / total:.0%}) · {format_duration(elapsed)} "
            f"elapsed · {left}")


def compute(key: tuple, X: np.ndarray, gamma: float, rows: int | None) -> None:
    """Run the block engine under a progress bar; keep the result only if it finishes."""
    try:
        run = BlockRun(X, gamma, rows_per_device=rows, max_side=MAX_POOLED_SIDE)
    except (CoreError, ValueError) as err:
        st.error(f"The block engine could not start: {err}", icon=":material/error:")
        return
    # The run itself goes into the session before it starts: when a click or a new
    # setting interrupts it, Streamlit raises at its next call (even an assignment
    # to st.session_state), so nothing could be stored on the way out. The next
    # page run finds it here, finished or not (`adopt_last_run`).
    ss["_scale_active"] = dict(key=key, run=run)
    n = run.plan.n
    bar = st.progress(0.0, text="Compiling the block step (the first step includes it)…")
    stop_slot = st.empty()
    stop_slot.button("Stop", key="w_scale_stop", icon=":material/stop:",
                     help="Abandons the computation after the current step; what was done is "
                          "shown as partial.")
    live = st.empty()
    check = interruption_check()
    last_text = last_live = time.perf_counter()
    for p in run.steps():
        now = time.perf_counter()
        if now - last_text >= PROGRESS_EVERY_S:
            bar.progress(p.fraction, text=progress_text(p.done_rows, n, p.elapsed_s, p.eta_s))
            last_text = now
        if now - last_live >= LIVE_HEATMAP_EVERY_S and not run.complete:
            partial = run.result()
            live.plotly_chart(pooled_heatmap(partial.pooled, partial.pool_factor, n,
                                             "K so far", partial.done_rows),
                              key=f"w_scale_live_{p.done_rows}")
            last_live = now
        if not run.complete:
            check()
    adopt_last_run()
    st.rerun()  # redraw without the progress bar and the Stop button


def adopt_last_run() -> None:
    """File the last run away: a finished one as a result, an interrupted one as partial."""
    active = ss.get("_scale_active")
    if active is None:
        return
    run = active["run"]
    if run.complete:
        results = ss["_scale_results"]
        results[active["key"]] = run.result()
        while len(results) > KEPT_RESULTS:
            results.pop(next(iter(results)))
    else:
        ss["_scale_partial"] = dict(key=active["key"], result=run.result())
    ss["_scale_active"] = None  # frees the run's device copies of the data


def show_result(result, n: int, partial: bool) -> None:
    done = result.done_rows
    if done == 0:
        st.caption("No row was finished before it stopped.")
        return
    c1, c2, c3 = st.columns(3)
    c1.metric("Entries of K done", format_count(done * n),
              help=f"{done:,} rows × {n:,} columns = {done * n:,} entries. "
                   + ("K(X, X) is symmetric: the engine computes only the tiles from each "
                      "step's diagonal on and mirrors the others into the later rows' sums."
                      if result.symmetric else ""))
    c2.metric("Wall time (one run)", format_seconds(result.elapsed_s, 2),
              help="Including the one-off compilation of the block step.")
    steady = result.steady_seconds_per_entry
    c3.metric("Cost per entry (one run)",
              "n/a" if steady is None else format_seconds(steady, 2),
              help="Wall time per entry after the first step (which compiles the block step). "
                   "Per entry of K done, computed or mirrored, so this is the number to "
                   "compare across N (benchmarks/block_engine.py measures it, and the cost "
                   "per computed entry, with their spread). With "
                   f"the first step: {format_seconds(result.seconds_per_entry, 2)}.")
    plan = result.plan
    st.caption(f"{counted(plan.n_blocks, 'step')} of {plan.block_rows:,} rows "
               f"({counted(plan.n_devices, 'device')} × {plan.rows_per_device:,} rows), each "
               f"walking the columns {'from its own diagonal on ' if result.symmetric else ''}"
               f"in tiles of {plan.tile_cols:,} (at most {plan.n_tiles} a step).")
    title = "K, pooled block by block"
    st.plotly_chart(pooled_heatmap(result.pooled, result.pool_factor, n, title,
                                   done if partial else None),
                    key="w_scale_partial_heatmap" if partial else "w_scale_heatmap")
    sums = result.row_sums[:done]
    left, right = st.columns(2)
    left.plotly_chart(row_sum_profile(sums, "Row sums along the points"),
                      key="w_scale_profile_partial" if partial else "w_scale_profile")
    right.plotly_chart(row_sum_histogram(sums, "How the row sums are spread"),
                       key="w_scale_hist_partial" if partial else "w_scale_hist")
    q = np.quantile(sums, [0, 0.5, 1])
    m1, m2, m3 = st.columns(3)
    m1.metric("Smallest row sum", f"{q[0]:.6g}")
    m2.metric("Median row sum", f"{q[1]:.6g}")
    m3.metric("Largest row sum", f"{q[2]:.6g}")
    st.caption("A row sum Σⱼ k(xᵢ, xⱼ) is the kernel mass around point i (the diagonal adds "
               "1): large in dense regions, 1 for an isolated point, N when gamma → 0.")


# --- the page ---------------------------------------------------------------------

settings = render_sidebar(uses=frozenset({"precision"}))  # its own synthetic data
dtype = settings.dtype
ss.setdefault("_scale_results", {})
ss.setdefault("_scale_partial", None)
adopt_last_run()  # a run that a click interrupted, or that finished just as one came

st.title("Scale: past memory, block by block")
st.markdown(
    "A Gram matrix has N² entries: for a million points that is 10¹² numbers, 3.6 TiB in "
    "float32, more than any one machine's memory. The **block engine** never holds it. Each "
    "step computes a block of rows of K, walking the columns in tiles that fit the CPU cache, "
    "and folds every tile at once into small results: the means of the pooled cells a heatmap "
    "shows, and each row's sum. Memory stays a few tiles however large N is; time grows as N².")
st.caption(f"This page makes its own synthetic data (below) and computes the RBF kernel; of "
           f"the sidebar's settings it uses only the precision ({dtype}).")

c1, c2, c3, c4 = st.columns([3, 2, 2, 1])
n = bound(c1.select_slider, "Number of points N", N_OPTIONS, format_func=lambda v: f"{v:,}",
          help="K is N × N; the engine computes all N² entries.",
          value=10_000, key="w_scale_n")
d = bound(c2.slider, "Features D", 1, MAX_SCALE_FEATURES, help="Few features: the cost is in the N² "
          "kernel values, not in the data.", value=2, key="w_scale_d")
kind = bound(c3.radio, "Data", list(SCALE_DATASETS), horizontal=True, help="\n\n".join(
    f"**{k}**: {v}" for k, v in SCALE_DATASETS.items()),
    index=list(SCALE_DATASETS).index("blobs"), key="w_scale_kind")
seed = bound(c4.number_input, "Seed", 0, 2**31 - 1, step=1, value=0, key="w_scale_seed")
c1, c2 = st.columns([3, 2])
factor = bound(c1.select_slider, "gamma, as a multiple of the median heuristic", GAMMA_FACTORS,
               format_func=lambda f: f"{f:g} ×", value=1.0, key="w_scale_gamma",
               help="The median heuristic 1/(2·median d²) on 1,000 sampled points "
                    "sets the scale; larger gamma makes K more local.")
rows_choice = bound(c2.select_slider, "Rows per step (per device)", ROWS_OPTIONS,
                    value="auto", key="w_scale_rows",
                    help=f"auto: {AUTO_ROWS} on this {PLATFORM.upper()} (tiles of "
                         f"{AUTO_ROWS} × about {AUTO_COLS:,} columns), shrunk so the "
                         "last step is not mostly padding.")

X = points(kind, n, d, int(seed), dtype)
gamma = factor * heuristic(kind, n, d, int(seed), dtype, X)
rows = None if rows_choice == "auto" else int(rows_choice)
devices = jax.devices()
plan = plan_blocks(n, n, n_devices=len(devices), rows_per_device=rows, platform=PLATFORM)
itemsize = np.dtype(dtype).itemsize
key = (kind, n, d, int(seed), dtype, float(gamma), rows)
dense = resolve("auto", n, n, d, dtype)  # what the app's dense pages would run at this size

st.subheader("Memory: dense against blocks")
dense_need = dense_gram_bytes(n, n, dtype)
m1, m2, m3 = st.columns(3)
m1.metric("A dense K would need", format_bytes(dense_need),
          help=f"N² × {itemsize} bytes = {n:,}² × {itemsize} = {dense_need:,} bytes, for K alone.")
m2.metric("Budget for a dense result", format_bytes(DENSE_MEMORY_BUDGET_BYTES),
          help="Every dense computation in the app checks its estimate against this first.")
m3.metric("The block engine holds about", format_bytes(
    plan.device_bytes(d, itemsize) + plan.host_bytes(itemsize)),
    help="The data, two steps in flight and one tile's temporaries on the device, plus the "
         "results on the host (pooled sums, one float64 per row).")
try:
    check_dense_budget(n, n, dtype, copies=dense.copies, what="The dense method")
    st.caption(f"At this N a dense K fits the budget ({dense.label} holds about "
               f"{format_bytes(dense_gram_bytes(n, n, dtype, dense.copies))} at its peak): "
               "the Gram explorer computes such matrices whole. Here it is computed in blocks "
               "anyway, and you can check the two agree below.")
except TooLargeError:
    st.info(f"At N = {n:,} a dense K is out of reach: {dense.label} would hold about "
            f"{format_bytes(dense_gram_bytes(n, n, dtype, dense.copies))} at its peak, above "
            f"the {format_bytes(DENSE_MEMORY_BUDGET_BYTES)} budget, so every dense method "
            "refuses. The block engine below never holds it.", icon=":material/memory:")

st.subheader("Compute")
st.markdown(
    f"**{kind}**, N = {n:,}, D = {d}, {dtype}, gamma = {gamma:.3g}; "
    f"{counted(plan.n_blocks, 'step')} of {plan.block_rows:,} rows on "
    f"{counted(len(devices), devices[0].platform.upper() + ' device')}, each walking the "
    f"columns from its own diagonal on (K is symmetric: the tiles left of it are mirrors, "
    f"not computed) in tiles of {plan.tile_cols:,} columns; pooled {plan.pool}×{plan.pool} into "
    f"{plan.pooled_shape[0]}×{plan.pooled_shape[1]} cells.")
st.button("Compute", type="primary", key="w_scale_compute", icon=":material/play_arrow:",
          on_click=start_run, args=(key,), help="Any click or setting change stops it between "
                                                 "two steps.")

job = ss.pop("_scale_job", None)
if job == key:
    compute(key, X, gamma, rows)

result = ss["_scale_results"].get(key)
partial = ss["_scale_partial"]

if result is not None:
    st.success(f"Done: all {n:,} rows, {n * n:,} entries in {format_seconds(result.elapsed_s, 2)}, "
               f"never more than {plan.block_rows:,} rows × {plan.tile_cols:,} columns at once.",
               icon=":material/check_circle:")
    show_result(result, n, partial=False)
elif partial is not None and partial["key"] == key:
    p = partial["result"]
    st.warning(f"Stopped after {p.done_rows:,} of {n:,} rows ({p.fraction:.0%}): what is below "
               "is partial, the rest was never computed. Click **Compute** to start again.",
               icon=":material/stop_circle:")
    show_result(p, n, partial=True)
else:
    if partial is not None:
        old = partial["key"]
        st.info(f"The computation for N = {old[1]:,} ({old[0]}, D = {old[2]}) was abandoned when "
                "a setting changed; nothing of it is kept.", icon=":material/history:")
        ss["_scale_partial"] = None
    st.caption("Nothing computed yet for these settings: click **Compute**.")

if result is not None:
    with st.expander("Check against the dense matrix"):
        try:
            check_dense_budget(n, n, dtype, copies=dense.copies + 1, what="The dense check")
        except TooLargeError as err:
            st.info(str(err), icon=":material/memory:")
        else:
            if st.button(f"Compute K densely with {dense.label} and compare", key="w_scale_check"):
                pooled_dense, sums_dense = dense_check(key, dense.name, X, gamma)
                k1, k2 = st.columns(2)
                k1.metric("max |pooled(blocks) − pooled(dense)|",
                          f"{np.max(np.abs(result.pooled - pooled_dense)):.2g}")
                k2.metric("max relative difference of row sums",
                          f"{np.max(np.abs(result.row_sums - sums_dense) / sums_dense):.2g}")
                st.caption("Round-off only: the block engine sums in a different order "
                           f"({dtype} within a pooled column group, float64 across them).")

reproduce_control("scale", None, dict(
    kind=kind, n=n, d=d, seed=int(seed), dtype=dtype, gamma_factor=factor, rows_per_device=rows,
    computed=result is not None), notes=[
    "The block engine runs when `computed` is True: in the app, once **Compute** finished. "
    "It takes about as long here as there (the time grows as N²); the pooled heatmap has "
    f"at most {MAX_POOLED_SIDE:,} cells a side and the row sums one number a point, whatever N."])

with st.expander("The code that runs"):
    st.caption("Read with `inspect.getsource` from `core.scale`: one tile of K; for K(X, X) "
               "the tile made as its transpose and reduced both ways (each pair computed "
               "once); and one device's share of a step (`jax.shard_map` gives each device "
               "its rows).")
    st.code(inspect.getsource(rbf_tile), language="python")
    st.code(inspect.getsource(symmetric_tile), language="python")
    st.code(inspect.getsource(block_step), language="python")
