"""Scale: the Gram matrix of up to a million points, computed in blocks, never held whole.

The block engine (`core.scale`) runs only on a click, under a progress bar with
the time left. Any click or setting change starts a new run of the page, which
abandons the computation between two steps; a result is kept (keyed on every
setting it depends on) only when it finished, and what an abandoned run had done
is shown marked as partial, never as a result.
"""

from __future__ import annotations

import inspect

import jax
import numpy as np
import streamlit as st

from core.scale import block_step, default_block_shape, rbf_tile, symmetric_tile
from core.dense.memory import format_bytes
from core.dense.methods import get_method
from core.scale.synthetic import MAX_SCALE_FEATURES, SCALE_DATASETS
from core.bench.report import format_seconds
from core.scale import MAX_POOLED_SIDE
from core.views.scale import block_results, dense_check, scale_points, scale_setup
from ui.charts.scale import show_result
from ui.export import reproduce_control
from ui.state.sidebar import render_sidebar
from ui.state.url import bound
from ui.state.scale_run import URL, adopt_last_run, compute, run_requested, start_run
from ui.charts.words import counted

N_OPTIONS = (1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000, 200_000, 500_000, 1_000_000)
GAMMA_FACTORS = (0.1, 0.3, 1.0, 3.0, 10.0)
ROWS_OPTIONS = ("auto", 32, 64, 128, 256, 512, 1024, 2048)
PLATFORM = jax.devices()[0].platform
AUTO_ROWS, AUTO_COLS = default_block_shape(PLATFORM)
ss = st.session_state


@st.cache_data(max_entries=2, show_spinner="Generating the points…")
def points(kind: str, n: int, d: int, seed: int, dtype: str) -> dict[str, np.ndarray]:
    return scale_points(kind, n, d, seed, dtype)


@st.cache_data(max_entries=4, show_spinner="Computing the dense matrix for the check…")
def checked(key: tuple, method: str, _X: np.ndarray, gamma: float, _pooled: np.ndarray,
            _row_sums: np.ndarray) -> dict[str, np.ndarray]:
    return dense_check(_X, gamma, method, _pooled, _row_sums)


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
          value=10_000, key=URL.n)
d = bound(c2.slider, "Features D", 1, MAX_SCALE_FEATURES, help="Few features: the cost is in the N² "
          "kernel values, not in the data.", value=2, key=URL.d)
kind = bound(c3.radio, "Data", list(SCALE_DATASETS), horizontal=True, help="\n\n".join(
    f"**{k}**: {v}" for k, v in SCALE_DATASETS.items()),
    index=list(SCALE_DATASETS).index("blobs"), key=URL.kind)
seed = bound(c4.number_input, "Seed", 0, 2**31 - 1, step=1, value=0, key=URL.seed)
c1, c2 = st.columns([3, 2])
factor = bound(c1.select_slider, "gamma, as a multiple of the median heuristic", GAMMA_FACTORS,
               format_func=lambda f: f"{f:g} ×", value=1.0, key=URL.gamma,
               help="The median heuristic 1/(2·median d²) on 1,000 sampled points "
                    "sets the scale; larger gamma makes K more local.")
rows_choice = bound(c2.select_slider, "Rows per step (per device)", ROWS_OPTIONS,
                    value="auto", key=URL.rows,
                    help=f"auto: {AUTO_ROWS} on this {PLATFORM.upper()} (tiles of "
                         f"{AUTO_ROWS} × about {AUTO_COLS:,} columns), shrunk so the "
                         "last step is not mostly padding.")

data = points(kind, n, d, int(seed), dtype)
X = data["X"]
rows = None if rows_choice == "auto" else int(rows_choice)
setup = scale_setup(n, d, dtype, float(data["gamma_median"]), factor, rows)
gamma = float(setup["gamma"])
key = (kind, n, d, int(seed), dtype, gamma, rows)
dense = get_method(str(setup["dense_method"]))  # what the app's dense pages would run here
budget = format_bytes(int(setup["budget_bytes"]))
dense_peak = format_bytes(int(setup["dense_peak_bytes"]))

st.subheader("Memory: dense against blocks")
itemsize = np.dtype(dtype).itemsize
m1, m2, m3 = st.columns(3)
m1.metric("A dense K would need", format_bytes(int(setup["dense_bytes"])),
          help=f"N² × {itemsize} bytes = {n:,}² × {itemsize} = {int(setup['dense_bytes']):,} "
               "bytes, for K alone.")
m2.metric("Budget for a dense result", budget,
          help="Every dense computation in the app checks its estimate against this first.")
m3.metric("The block engine holds about", format_bytes(int(setup["engine_bytes"])),
          help="The data, two steps in flight and one tile's temporaries on the device, plus the "
               "results on the host (pooled sums, one float64 per row).")
if setup["dense_fits"]:
    st.caption(f"At this N a dense K fits the budget ({dense.label} holds about {dense_peak} at "
               "its peak): the Gram explorer computes such matrices whole. Here it is computed "
               "in blocks anyway, and you can check the two agree below.")
else:
    st.info(f"At N = {n:,} a dense K is out of reach: {dense.label} would hold about "
            f"{dense_peak} at its peak, above the {budget} budget, so every dense method "
            "refuses. The block engine below never holds it.", icon=":material/memory:")

st.subheader("Compute")
st.markdown(
    f"**{kind}**, N = {n:,}, D = {d}, {dtype}, gamma = {gamma:.3g}; "
    f"{counted(int(setup['steps']), 'step')} of {int(setup['block_rows']):,} rows on "
    f"{counted(int(setup['n_devices']), str(setup['platform']).upper() + ' device')}, each "
    "walking the columns from its own diagonal on (K is symmetric: the tiles left of it are "
    f"mirrors, not computed) in tiles of {int(setup['tile_cols']):,} columns; pooled "
    f"{int(setup['pool'])}×{int(setup['pool'])} into {setup['pooled_shape'][0]}×"
    f"{setup['pooled_shape'][1]} cells.")
st.button("Compute", type="primary", key="w_scale_compute", icon=":material/play_arrow:",
          on_click=start_run, args=(key,), help="Any click or setting change stops it between "
                                                 "two steps.")

if run_requested(key):
    compute(key, X, gamma, rows)

result = ss["_scale_results"].get(key)
partial = ss["_scale_partial"]

if result is not None:
    st.success(f"Done: all {n:,} rows, {n * n:,} entries in {format_seconds(result.elapsed_s, 2)}, "
               f"never more than {int(setup['block_rows']):,} rows × {int(setup['tile_cols']):,} "
               "columns at once.", icon=":material/check_circle:")
    shown = block_results(result)
    show_result(shown, n, partial=False)
elif partial is not None and partial["key"] == key:
    p = partial["result"]
    st.warning(f"Stopped after {p.done_rows:,} of {n:,} rows ({p.fraction:.0%}): what is below "
               "is partial, the rest was never computed. Click **Compute** to start again.",
               icon=":material/stop_circle:")
    show_result(block_results(p), n, partial=True)
else:
    if partial is not None:
        old = partial["key"]
        st.info(f"The computation for N = {old[1]:,} ({old[0]}, D = {old[2]}) was abandoned when "
                "a setting changed; nothing of it is kept.", icon=":material/history:")
        ss["_scale_partial"] = None
    st.caption("Nothing computed yet for these settings: click **Compute**.")

if result is not None:
    with st.expander("Check against the dense matrix"):
        if str(setup["dense_check_refusal"]):
            st.info(str(setup["dense_check_refusal"]), icon=":material/memory:")
        elif st.button(f"Compute K densely with {dense.label} and compare", key="w_scale_check"):
            check = checked(key, dense.name, X, gamma, shown["pooled"], shown["row_sums"])
            k1, k2 = st.columns(2)
            k1.metric("max |pooled(blocks) − pooled(dense)|",
                      f"{float(check['max_pooled_difference']):.2g}")
            k2.metric("max relative difference of row sums",
                      f"{float(check['max_row_sum_difference']):.2g}")
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
