"""The "Jacobians" tab of vmap, further: jacfwd and jacrev as vmap of jvp and
of vjp, and which costs less by shape.

Its controls are keyed `further_*` and bound to the URL (`ui.state.url.bound`); the
numbers come from `core.lessons.further.jacobians`.
"""

from __future__ import annotations

import jax
import numpy as np
import pandas as pd
import streamlit as st

from core.bench.report import format_load

from core.lessons.further import jacobians
from core.precision import dtype_scope
from ui.charts.further import size_lines, source
from ui.state.further import JACOBIAN_SIZES, SWEEP_SIZES, once_per_key
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
    n = bound(c1.select_slider, "inputs n", JACOBIAN_SIZES, 8, key="further_jac_n")
    m = bound(c2.select_slider, "outputs m", JACOBIAN_SIZES, 256, key="further_jac_m")
    swept = bound(c3.radio, "Sweep", ("inputs n", "outputs m"), horizontal=True, key="further_jac_vary")
    vary = swept.split()[-1]
    with dtype_scope(settings.dtype):
        W, x = jacobians.problem(n, m, settings.dtype)
        J = {name: np.asarray(fn(W, x)) for name, fn in jacobians.JACOBIANS.items()}
        flops = {name: jacobians.jacobian_flops(name, n, m, settings.dtype)
                 for name in jacobians.JACOBIANS}
    t = np.tanh(np.asarray(W, np.float64) @ np.asarray(x, np.float64))
    exact = (1 - t**2)[:, None] * np.asarray(W, np.float64)  # d tanh(Wx)/dx, by hand
    st.dataframe(pd.DataFrame({
        "way": list(J),
        "shape": [str(v.shape) for v in J.values()],
        "max |Δ| to the formula (1 - tanh²)·W": [f"{np.max(np.abs(v - exact)):.2g}"
                                                 for v in J.values()],
        "XLA's flop count": [f"{flops[k]:,.0f}" for k in J],
        "directions pushed or pulled": [n if "jvp" in k or "fwd" in k else m for k in J],
    }), hide_index=True, key="w_further_jac_table")
    winner = "forward (jvp)" if flops["vmap of jvp"] < flops["vmap of vjp"] else "reverse (vjp)"
    st.markdown(f"With n = {n} inputs and m = {m} outputs, **{winner}** needs fewer flops: "
                "forward does n pushes, reverse m pulls.")
    fixed = m if vary == "n" else n
    bar = st.progress(0.0, text="Timing both ways at each size …")
    with dtype_scope(settings.dtype):
        rows = once_per_key("jac", (vary, fixed, settings.dtype), lambda: jacobians.jacobian_timings(
            SWEEP_SIZES, fixed, vary, settings.dtype,
            on_progress=lambda f: bar.progress(f, text="Timing both ways at each size …")))
    bar.empty()
    series = {}
    for name in ("vmap of jvp", "vmap of vjp"):
        mine = [r for r in rows if r["method"] == name]
        series[name] = ([r["timing"].median_s for r in mine], [r["timing"].spread_s for r in mine])
    other = f"m = {fixed}" if vary == "n" else f"n = {fixed}"
    st.plotly_chart(size_lines(SWEEP_SIZES, series, "inputs n" if vary == "n" else "outputs m",
                               f"Jacobian of tanh(W x), {other} (measured here)"),
                    key="w_further_jac_chart")
    st.caption("At each size the two ways ran in turn, round by round. "
               + format_load(rows[0]["timing"].other_cores))
    source(jacobians.layer, jacobians.jacobian_by_jvp, jacobians.jacobian_by_vjp)
