"""The "vmap, further" page, topics 1-4: collectives, control flow, random keys, Jacobians.

Each `render_*` draws one tab: a sentence of what the topic is, its controls (keyed
`further_*`, bound to the URL), the live result, the code that ran and a jaxpr where
it teaches. The numbers come from core.lessons.further; nothing is computed here.
"""

from __future__ import annotations

import inspect

import jax
import numpy as np
import pandas as pd
import streamlit as st

from core.lessons.further import collectives, control, jacobians, randomness
from core.lessons.further.collectives import COLLECTIVE_ROWS
from core.lessons.further.timed import format_timing
from core.precision import dtype_scope
from core.views.further import newton_inputs
from ui.charts.shared import matrix_heatmap
from ui.charts.further import noise_scatter, size_lines, steps_chart, time_bars
from ui.state.settings import grid_label

__all__ = ["render_collectives", "render_control", "render_random", "render_jacobians",
           "source", "once_per_key"]

COLLECTIVE_MAX_ROWS = 300
CONTROL_MAX_ROWS = 2000
JACOBIAN_SIZES = (2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)
SWEEP_SIZES = (4, 16, 64, 256, 1024)
COND_FRACTIONS = (0.0, 0.25, 0.5, 0.75, 1.0)  # shares of rows that take the costly branch


def source(*fns) -> None:
    """Show the source of the functions that just ran."""
    st.code("\n\n".join(inspect.getsource(f) for f in fns), language="python")


def once_per_key(name: str, key: tuple, compute):
    """`compute()` once per `key` in this session (timings are not redone on every rerun)."""
    held = st.session_state.get(f"_further_{name}")
    if held is None or held[0] != key:
        held = (key, compute())
        st.session_state[f"_further_{name}"] = held
    return held[1]


def render_collectives(settings, data) -> None:
    st.markdown(
        "**`axis_name`** names the batch axis, so the function vmap maps can reduce over "
        "the batch with a collective such as `lax.psum`: each call below builds **one row** "
        "of the RBF Gram matrix, and a collective over the axis `\"rows\"` finishes it.")
    X = data.X[:COLLECTIVE_MAX_ROWS]
    n, d = X.shape
    name = st.radio("Collective", list(COLLECTIVE_ROWS), horizontal=True,
                    captions=[label for label, _ in COLLECTIVE_ROWS.values()],
                    key="further_collective", bind="query-params")
    with dtype_scope(settings.dtype):
        K = np.asarray(collectives.batched_rows(name, X, settings.gamma))
        seen = np.asarray(collectives.axis_size_seen(X))
        jaxpr = collectives.collective_jaxpr(name, n, d, settings.dtype)
    reference = collectives.numpy_reference(name, X, settings.gamma)
    c1, c2, c3 = st.columns(3)
    c1.metric("max |Δ| to NumPy", f"{np.max(np.abs(K - reference)):.2g}",
              help="Against the whole matrix built in float64 NumPy.")
    if name == "psum":
        c2.metric("largest eigenvalue", f"{np.linalg.eigvalsh(K.astype(np.float64))[-1]:.4f}",
                  help="1 for D^-1/2 K D^-1/2: its eigenvector is D^1/2·1.")
    else:
        c2.metric("largest |row sum|", f"{np.max(np.abs(K.sum(axis=1))):.2g}",
                  help="0 once centred, up to round-off.")
    c3.metric("lax.axis_size", f"{int(seen[0]):,}",
              help="Inside each call: the size of the batch it is part of, N rows.")
    fig, _ = matrix_heatmap(K, f"{name}: {n} rows, gamma = {grid_label(settings.gamma)}", "value",
                            height=460)
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
    copies = st.slider("copies", 1, 8, 3, key="further_copies", bind="query-params")
    with dtype_scope(settings.dtype):
        out = np.asarray(collectives.copies_without_a_mapped_input(X[0], copies))
    st.markdown(f"With `in_axes=None` no argument says how long the batch is; `axis_size="
                f"{copies}` does. Row k is (k + 1) · x₀ (`lax.axis_index` gives k): output "
                f"shape **{out.shape}**.")
    st.dataframe(pd.DataFrame(out, columns=[f"x{j}" for j in range(out.shape[1])]),
                 key="w_further_copies_table", hide_index=False)
    source(collectives.copies_without_a_mapped_input)


def render_control(settings, data) -> None:
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
        rows = once_per_key("cond", (data.key, settings.dtype, settings.gamma),
                       lambda: control.cond_timings(X, settings.gamma, fractions))
    st.plotly_chart(time_bars([r["label"] for r in rows], [r["timing"].median_s for r in rows],
                              [r["timing"].spread_s for r in rows],
                              f"Density-or-norm of {n:,} points (measured here)"),
                    key="w_further_cond_chart")
    st.dataframe(pd.DataFrame({
        "program": [r["label"] for r in rows],
        "rows above threshold": [r["costly_rows"] for r in rows],
        "median (± spread)": [format_timing(r["timing"]) for r in rows],
        "compile": [f"{r['timing'].compile_s:.2g} s" for r in rows],
    }), hide_index=True, key="w_further_cond_table")
    st.caption("Both branches run for every row, whatever the fraction (the batched jaxpr "
               "below holds the costly branch's (N, N) block): so the fraction should barely "
               "move the bars above, which are this machine's medians, not a promise.")
    source(control.density_or_norm)
    left, right = st.columns(2)
    left.markdown("**One point**: a real `cond`")
    left.code(one, language=None)
    right.markdown(f"**vmap over {n:,} points**: `select_n`, both branches")
    right.code(many, language=None)

    st.subheader("lax.while_loop runs until the slowest element")
    decades = st.slider("Largest input a (decades: a up to 10^k)", 1, 30, 12,
                        key="further_decades", bind="query-params")
    a = newton_inputs(X, decades)
    with dtype_scope(settings.dtype):
        result = control.newton_trips(a)
    steps = result["steps"]
    c1, c2, c3 = st.columns(3)
    c1.metric("batched loop trips", f"{result['trips']}")
    c2.metric("slowest element's steps", f"{int(steps.max())}")
    c3.metric("mean steps", f"{steps.mean():.3g}")
    st.markdown(f"Newton's method for √a on {n:,} inputs a, one per point, spread on a log "
                f"scale from 1 to 10^{decades} by the rank of |x|². Rows that are done wait, "
                "frozen by a select, while the loop runs for the others.")
    st.plotly_chart(steps_chart(steps, result["trips"], "Steps each element needs, and the "
                                "trips the batched loop made"), key="w_further_while_chart")
    source(control.newton_sqrt, control.newton_trips)


def render_random(settings, data) -> None:
    st.markdown(
        "**Random numbers under vmap.** A key is an input like any other: with "
        "`in_axes=None` every row gets the same key and so the **same** draws; split the key "
        "into N keys and map over them, and each row draws **independently**.")
    X = data.X
    c1, c2 = st.columns(2)
    seed = c1.number_input("Key seed", 0, 2**31 - 1, 0, key="further_key_seed",
                           bind="query-params")
    scale = c2.select_slider("Noise scale", (0.01, 0.03, 0.1, 0.3, 1.0), 0.1,
                             key="further_noise_scale", bind="query-params")
    with dtype_scope(settings.dtype):
        key = jax.random.key(int(seed))
        one = np.asarray(randomness.noise_one_key(key, X, scale)) - X
        split = np.asarray(randomness.noise_split_keys(key, X, scale)) - X
    # Noise read back as (x + noise) - x carries round-off of size eps·|x|: compare above it.
    tol = 8 * np.finfo(X.dtype).eps * (np.abs(X).max() + scale)
    same = lambda noise: int(np.sum(np.max(np.abs(noise - noise[0]), axis=1) <= tol))  # noqa: E731
    m1, m2, m3 = st.columns(3)
    m1.metric("one key: row 0's noise", f"{same(one):,} of {len(X):,}",
              help="Rows whose noise equals row 0's, to the round-off of (x + noise) − x.")
    m2.metric("split: row 0's noise", f"{same(split):,} of {len(X):,}",
              help="Row 0 itself is the 1: every other row drew its own noise.")
    m3.metric("std, split-key noise", f"{split.std():.3g}", help=f"The scale asked for: {scale}.")
    st.plotly_chart(noise_scatter(one, split, f"The noise added to each of {len(X):,} rows"),
                    key="w_further_noise_chart")
    source(randomness.noisy_copy, randomness.noise_one_key, randomness.noise_split_keys)


def render_jacobians(settings, data) -> None:
    st.markdown(
        "**Jacobians are vmaps.** `jax.jvp` pushes one input direction through f and gives "
        "one column of the Jacobian; `jax.vjp` pulls one output direction back and gives one "
        "row. `jacfwd` is vmap of jvp over all n inputs, `jacrev` vmap of vjp over all m "
        "outputs. For f(x) = tanh(W x), W of shape (m, n):")
    c1, c2, c3 = st.columns(3)
    n = c1.select_slider("inputs n", JACOBIAN_SIZES, 8, key="further_jac_n", bind="query-params")
    m = c2.select_slider("outputs m", JACOBIAN_SIZES, 256, key="further_jac_m",
                         bind="query-params")
    swept = c3.radio("Sweep", ("inputs n", "outputs m"), horizontal=True, key="further_jac_vary",
                     bind="query-params")
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
    source(jacobians.layer, jacobians.jacobian_by_jvp, jacobians.jacobian_by_vjp)
