"""The "Collectives" tab of vmap, further: `axis_name`, psum/pmean over the
batch, and `axis_size`.

Its controls are keyed `further_*` and bound to the URL (`ui.state.url.bound`); the
numbers come from `core.lessons.further.collectives`.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.lessons.further import collectives
from core.lessons.further.collectives import COLLECTIVE_ROWS
from core.precision import dtype_scope
from core.views.further import axis_size_copies, collective_rows
from ui.charts.shared import matrix_heatmap
from ui.charts.further import source
from ui.state.settings import grid_label
from ui.state.further import COLLECTIVE_MAX_ROWS, COLLECTIVES_URL as URL
from ui.state.url import bound

__all__ = ["render_collectives"]


def render_collectives(settings, data) -> None:
    """The Collectives tab, for the sidebar's `settings` and `data`."""
    st.markdown(
        "**`axis_name`** names the batch axis, so the function vmap maps can reduce over "
        "the batch with a collective such as `lax.psum`: each call below builds **one row** "
        "of the RBF Gram matrix, and a collective over the axis `\"rows\"` finishes it.")
    X = data.X[:COLLECTIVE_MAX_ROWS]
    n, d = X.shape
    name = bound(st.radio, "Collective", list(COLLECTIVE_ROWS), horizontal=True,
                 captions=[label for label, _ in COLLECTIVE_ROWS.values()],
                 key=URL.collective)
    rows = collective_rows(X, settings.dtype, settings.gamma, collective=name, max_rows=n)
    with dtype_scope(settings.dtype):
        jaxpr = collectives.collective_jaxpr(name, n, d, settings.dtype)
    c1, c2, c3 = st.columns(3)
    c1.metric("max |Δ| to NumPy", f"{float(rows['max_abs_diff']):.2g}",
              help="Against the whole matrix built in float64 NumPy.")
    if name == "psum":
        c2.metric("largest eigenvalue", f"{float(rows['top_eigenvalue']):.4f}",
                  help="1 for D^-1/2 K D^-1/2: its eigenvector is D^1/2·1.")
    else:
        c2.metric("largest |row sum|", f"{float(rows['max_row_sum']):.2g}",
                  help="0 once centred, up to round-off.")
    c3.metric("lax.axis_size", f"{int(rows['axis_size'][0]):,}",
              help="Inside each call: the size of the batch it is part of, N rows.")
    fig, _ = matrix_heatmap(rows["K"], f"{name}: {n} rows, gamma = {grid_label(settings.gamma)}",
                            "value", height=460)
    st.plotly_chart(fig, key="w_further_collective_chart")
    if n < data.X.shape[0]:
        st.caption(f"The first {n} of {data.X.shape[0]:,} rows.")
    st.markdown(f"Each call sees `x` of shape ({d},) and the whole X; vmap runs {n} of them. "
                "In the batched program the collective is a reduction over axis 0, the "
                "batch axis (look for `psum[axes=(0,)]` on the stacked rows):")
    source(COLLECTIVE_ROWS[name][1], collectives.batched_rows)
    with st.expander("The batched program (jaxpr)"):
        st.code(jaxpr, language=None)

    st.subheader("axis_size: a batch with no mapped input")
    copies = bound(st.slider, "copies", 1, 8, 3, key=URL.copies)
    out = axis_size_copies(X, settings.dtype, copies=copies)["copies"]
    st.markdown(f"With `in_axes=None` no argument says how long the batch is; `axis_size="
                f"{copies}` does. Row k is (k + 1) · x₀ (`lax.axis_index` gives k): output "
                f"shape **{out.shape}**.")
    st.dataframe(pd.DataFrame(out, columns=[f"x{j}" for j in range(out.shape[1])]),
                 key="w_further_copies_table", hide_index=False)
    source(collectives.copies_without_a_mapped_input)
