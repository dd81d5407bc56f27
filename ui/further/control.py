"""The "Control flow" tab of vmap, further: `lax.cond` becomes `select_n` under
vmap, and a batched `while_loop` runs until the slowest element.

Its controls are keyed `further_*` and bound to the URL (`ui.state.url.bound`); the
numbers come from its view, `core.views.further` (which runs `core.lessons.further.control`).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

import numpy as np

from core.lessons.further import control
from core.bench.report import format_load, format_median_iqr, format_ratio_interval
from core.precision import dtype_scope
from core.views.further import cond_section, newton_section
from ui.charts.further import source, steps_chart, time_bars
from ui.state.further import COND_FRACTIONS, CONTROL_MAX_ROWS, CONTROL_URL as URL, once_per_key
from ui.state.url import bound

__all__ = ["render_control"]


def render_control(settings, data) -> None:
    """The Control flow tab, for the sidebar's `settings` and `data`."""
    st.markdown(
        "**Control flow under vmap.** When the predicate differs per row, `lax.cond` cannot "
        "branch: vmap turns it into a `select_n` that runs **both** branches on every row. A "
        "batched `lax.while_loop` keeps going until the **slowest** row is done.")
    X = data.X[:CONTROL_MAX_ROWS]
    n, d = X.shape
    st.subheader("lax.cond becomes select_n")
    fractions = COND_FRACTIONS
    with dtype_scope(settings.dtype):
        one, many = control.cond_jaxpr(n, d, settings.dtype)
    timed_slot = st.container()  # filled last: the timing runs once the tab is drawn
    source(control.density_or_norm)
    left, right = st.columns(2)
    left.markdown("**One point**: a real `cond`")
    left.code(one, language=None)
    right.markdown(f"**vmap over {n:,} points**: `select_n`, both branches")
    right.code(many, language=None)

    st.subheader("lax.while_loop runs until the slowest element")
    decades = bound(st.slider, "Largest input a (decades: a up to 10^k)", 1, 30, 12,
                    key=URL.decades)
    result = newton_section(X, settings.dtype, decades=decades, max_rows=n)
    steps = result["steps"]
    c1, c2, c3 = st.columns(3)
    c1.metric("batched loop trips", f"{int(result['trips'])}")
    c2.metric("slowest element's steps", f"{int(steps.max())}")
    c3.metric("mean steps", f"{steps.mean():.3g}")
    st.markdown(f"Newton's method for √a on {n:,} inputs a, one per point, spread on a log "
                f"scale from 1 to 10^{decades} by the rank of |x|². Rows that are done wait, "
                "frozen by a select, while the loop runs for the others.")
    st.plotly_chart(steps_chart(steps, int(result["trips"]), "Steps each element needs, and the "
                                "trips the batched loop made", inputs=result["a"]),
                    key="w_further_while_chart")
    source(control.newton_sqrt, control.newton_trips)

    # --- timed last, in the slot kept above the code ---------------------------------
    with timed_slot:
        with st.spinner("Timing the programs in turn, round by round …"):
            view = once_per_key("cond", (data.key, settings.dtype, settings.gamma),
                                lambda: cond_section(X, settings.dtype, settings.gamma,
                                                     fractions=fractions, max_rows=n))
        labels = view["cond_label"].tolist()
        st.plotly_chart(time_bars(labels, view["cond_median_s"], view["cond_spread_s"],
                                  f"Density-or-norm of {n:,} points (measured here)"),
                        key="w_further_cond_chart")
        st.dataframe(pd.DataFrame({
            "program": labels,
            "rows above threshold": view["cond_costly_rows"],
            "median (IQR, runs)": [format_median_iqr(*t) for t in zip(
                view["cond_median_s"], view["cond_spread_s"], view["cond_repeats"].tolist())],
            "compile": [f"{c:.2g} s" for c in view["cond_compile_s"]],
        }), hide_index=True, key="w_further_cond_table")
        cond = np.flatnonzero(~np.isnan(view["cond_fraction"]))  # the vmap(cond) rows, by fraction
        st.caption("Both branches run for every row, whatever the fraction (the batched jaxpr "
                   "below holds the costly branch's (N, N) block): so the fraction should barely "
                   "move the bars above, which are this machine's medians, not a promise. "
                   f"{labels[cond[-1]]} over {labels[cond[0]]}: "
                   f"{format_ratio_interval(*view['cond_ratio_full_over_none'])} (all rows ran in "
                   "turn, round by round). " + format_load(view["cond_other_cores"][0]))
