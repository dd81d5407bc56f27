"""The "Memory" tab of vmap, further: `lax.map`'s batch_size against XLA's
memory analysis and time.

Its controls are keyed `further_*` and bound to the URL (`ui.state.url.bound`); the
numbers come from its view, `core.views.further` (which runs `core.lessons.further.memory`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from core.lessons.further import memory
from core.bench.report import format_load, format_median_iqr
from core.views.further import memory_tab
from ui.charts.further import memory_chart, source
from ui.state.further import MEMORY_MAX_ROWS, MEMORY_URL as URL, once_per_key
from ui.state.url import bound

__all__ = ["render_memory"]


def render_memory(settings, data) -> None:
    """The Memory tab, for the sidebar's `settings` and `data`."""
    st.markdown(
        "**Memory against time.** `lax.map(f, xs, batch_size=b)` runs vmap on b rows at a "
        "time inside a loop: b = 1 is a loop, b = N is vmap. XLA's memory analysis of the "
        "compiled program (`jax.jit(f).lower(...).compile().memory_analysis()`) says how "
        "much scratch memory each choice needs before anything runs.")
    X = data.X[:MEMORY_MAX_ROWS]
    n = X.shape[0]
    k = bound(st.select_slider, "Neighbours k", (1, 2, 4, 8, 16), 8, key=URL.k)
    if k > n:
        st.info(f"k = {k} is more than the N = {n} points; using k = {n}. Raise N in the "
                "sidebar for more neighbours.", icon=":material/info:")
        k = n
    st.markdown(f"f(x) is the mean squared distance from x to its k = {k} nearest points of "
                f"X ({n:,} × {X.shape[1]}): `top_k` needs all {n:,} distances of a row at "
                "once, so a batch of b rows holds a (b, N) array.")
    timed_slot = st.container()  # filled last: the timing runs once the tab is drawn
    source(memory.knn_sqdist, memory.mapped)

    with timed_slot:
        bar = st.progress(0.0, text="Compiling and timing each batch size …")
        view = once_per_key("memory", (data.key, settings.dtype, k), lambda: memory_tab(
            X, settings.dtype, settings.gamma, k=k, max_rows=n, on_progress=lambda f: bar.progress(
                f, text="Compiling and timing each batch size …")))
        bar.empty()
        sizes = view["batch_size"].tolist()  # 0: plain vmap
        labels = [str(b) if b else "vmap" for b in sizes]
        st.plotly_chart(memory_chart(labels, view["temp_bytes"].tolist(), view["memory_median_s"],
                                     view["memory_spread_s"],
                                     f"lax.map over {n:,} rows, by batch size (measured here)"),
                        key="w_further_memory_chart")
        itemsize = np.dtype(X.dtype).itemsize
        st.dataframe(pd.DataFrame({
            "batch_size": labels,
            "scratch (temp) bytes": [f"{b:,}" for b in view["temp_bytes"].tolist()],
            "b × N distances in bytes": [f"{(b or n) * n * itemsize:,}" for b in sizes],
            "arguments + output bytes": [f"{a + o:,}" for a, o in zip(view["argument_bytes"].tolist(),
                                                                      view["output_bytes"].tolist())],
            "median (IQR, runs)": [format_median_iqr(*t) for t in zip(
                view["memory_median_s"], view["memory_spread_s"], view["memory_repeats"].tolist())],
        }), hide_index=True, key="w_further_memory_table")
        st.caption("The scratch memory is at least the b × N block of distances, so it grows "
                   "with b once that block outweighs the loop's own bookkeeping; b = N and plain "
                   "vmap compile to the same memory. Which is "
                   "fastest depends on the machine: these are this machine's medians, every batch "
                   "size timed in turn, round by round. " + format_load(view["memory_other_cores"][0]))
