"""The "Jacobians" tab of vmap, further: jacfwd and jacrev as vmap of jvp and
of vjp, and which costs less by shape.

Its controls are keyed `further_*` and bound to the URL (`ui.state.url.bound`); the
numbers come from its view, `core.views.further` (which runs `core.lessons.further.jacobians`).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.bench.report import format_load
from core.lessons.further import jacobians
from core.views.further import jacobian_sweep, jacobian_ways
from ui.charts.further import size_lines, source
from ui.state.further import JACOBIAN_SIZES, JACOBIANS_URL as URL, SWEEP_SIZES, once_per_key
from ui.state.url import bound

__all__ = ["render_jacobians"]


def render_jacobians(settings, data) -> None:
    """The Jacobians tab, for the sidebar's `settings` and `data`."""
    st.markdown(
        "**Jacobians are vmaps.** `jax.jvp` pushes one input direction through f and gives "
        "one column of the Jacobian; `jax.vjp` pulls one output direction back and gives one "
        "row. `jacfwd` is vmap of jvp over all n inputs, `jacrev` vmap of vjp over all m "
        "outputs. For f(x) = tanh(W x), W of shape (m, n):")
    c1, c2, c3 = st.columns(3)
    n = bound(c1.select_slider, "inputs n", JACOBIAN_SIZES, 8, key=URL.n)
    m = bound(c2.select_slider, "outputs m", JACOBIAN_SIZES, 256, key=URL.m)
    swept = bound(c3.radio, "Sweep", ("inputs n", "outputs m"), horizontal=True, key=URL.vary)
    vary = swept.split()[-1]
    view = jacobian_ways(settings.dtype, n=n, m=m)
    ways = view["ways"].tolist()
    flops = dict(zip(ways, view["flops"]))
    st.dataframe(pd.DataFrame({
        "way": ways,
        "shape": [str(J.shape) for J in view["J"]],
        "max |Δ| to the formula (1 - tanh²)·W": [f"{v:.2g}" for v in view["formula_max_abs_diff"]],
        "XLA's flop count": [f"{f:,.0f}" for f in view["flops"]],
        "directions pushed or pulled": [n if "jvp" in k or "fwd" in k else m for k in ways],
    }), hide_index=True, key="w_further_jac_table")
    winner = "forward (jvp)" if flops["vmap of jvp"] < flops["vmap of vjp"] else "reverse (vjp)"
    st.markdown(f"With n = {n} inputs and m = {m} outputs, **{winner}** needs fewer flops: "
                "forward does n pushes, reverse m pulls.")
    timed_slot = st.container()  # filled last: the sweep runs once the tab is drawn
    source(jacobians.layer, jacobians.jacobian_by_jvp, jacobians.jacobian_by_vjp)

    with timed_slot:
        fixed = m if vary == "n" else n
        bar = st.progress(0.0, text="Timing both ways at each size …")
        sweep = once_per_key("jac", (vary, fixed, settings.dtype), lambda: jacobian_sweep(
            settings.dtype, n=n, m=m, vary=vary, sweep_sizes=SWEEP_SIZES,
            on_progress=lambda f: bar.progress(f, text="Timing both ways at each size …")))
        bar.empty()
        series = {}
        for name in ("vmap of jvp", "vmap of vjp"):
            mine = sweep["sweep_method"] == name
            series[name] = (sweep["sweep_median_s"][mine].tolist(), sweep["sweep_spread_s"][mine].tolist())
        other = f"m = {fixed}" if vary == "n" else f"n = {fixed}"
        st.plotly_chart(size_lines(SWEEP_SIZES, series, "inputs n" if vary == "n" else "outputs m",
                                   f"Jacobian of tanh(W x), {other} (measured here)"),
                        key="w_further_jac_chart")
        st.caption("At each size the two ways ran in turn, round by round. "
                   + format_load(sweep["sweep_other_cores"][0]))
