"""The "vmap, further" page, topics 5-8: memory against time, three spellings of one
program, custom batching, and the mapped axis over devices.

Each `render_*` draws one tab, like ui.further_batching: controls keyed `further_*`
and bound to the URL, the live result, the code that ran, jaxprs where they teach.
"""

from __future__ import annotations

from typing import Any

import jax
import numpy as np
import pandas as pd
import streamlit as st

from core.lessons.further import custom, forms, memory, sharding
from core.lessons.further.timed import format_timing
from core.precision import dtype_scope
from ui.further_batching import (COLLECTIVE_MAX_ROWS, COND_FRACTIONS, CONTROL_MAX_ROWS, SWEEP_SIZES,
                                 once_per_key, source)
from ui.charts.further import equation_bars, memory_chart
from ui.charts.words import counted

__all__ = ["render_memory", "render_forms", "render_custom", "render_devices", "tab_controls"]

MEMORY_MAX_ROWS = 2000
FORMS_JAXPR_ROWS = 5
CALLBACK_MAX_ROWS = 100
DEVICES_MAX_ROWS = 1000


def render_memory(settings, data) -> None:
    st.markdown(
        "**Memory against time.** `lax.map(f, xs, batch_size=b)` runs vmap on b rows at a "
        "time inside a loop: b = 1 is a loop, b = N is vmap. XLA's memory analysis of the "
        "compiled program (`jax.jit(f).lower(...).compile().memory_analysis()`) says how "
        "much scratch memory each choice needs before anything runs.")
    X = data.X[:MEMORY_MAX_ROWS]
    n = X.shape[0]
    k = st.select_slider("Neighbours k", (1, 2, 4, 8, 16), 8, key="further_knn_k",
                         bind="query-params")
    if k > n:
        st.info(f"k = {k} is more than the N = {n} points; using k = {n}. Raise N in the "
                "sidebar for more neighbours.", icon=":material/info:")
        k = n
    st.markdown(f"f(x) is the mean squared distance from x to its k = {k} nearest points of "
                f"X ({n:,} × {X.shape[1]}): `top_k` needs all {n:,} distances of a row at "
                "once, so a batch of b rows holds a (b, N) array.")
    sizes = memory.batch_sizes(n)
    bar = st.progress(0.0, text="Compiling and timing each batch size …")
    with dtype_scope(settings.dtype):
        rows = once_per_key("memory", (data.key, settings.dtype, k), lambda: memory.memory_sweep(
            X, k, sizes, on_progress=lambda f: bar.progress(
                f, text="Compiling and timing each batch size …")))
    bar.empty()
    labels = ["vmap" if r["batch_size"] is None else str(r["batch_size"]) for r in rows]
    st.plotly_chart(memory_chart(labels, [r["temp_bytes"] for r in rows],
                                 [r["timing"].median_s for r in rows],
                                 [r["timing"].spread_s for r in rows],
                                 f"lax.map over {n:,} rows, by batch size (measured here)"),
                    key="w_further_memory_chart")
    itemsize = np.dtype(X.dtype).itemsize
    st.dataframe(pd.DataFrame({
        "batch_size": labels,
        "scratch (temp) bytes": [f"{r['temp_bytes']:,}" for r in rows],
        "b × N distances in bytes": [f"{(r['batch_size'] or n) * n * itemsize:,}" for r in rows],
        "arguments + output bytes": [f"{r['argument_bytes'] + r['output_bytes']:,}" for r in rows],
        "median (± spread)": [format_timing(r["timing"]) for r in rows],
    }), hide_index=True, key="w_further_memory_table")
    st.caption("The scratch memory is at least the b × N block of distances, so it grows "
               "with b once that block outweighs the loop's own bookkeeping; b = N and plain "
               "vmap compile to the same memory. Which is "
               "fastest depends on the machine: these are this machine's medians.")
    source(memory.knn_sqdist, memory.mapped)


def render_forms(settings, data) -> None:
    st.markdown(
        "**One program, three spellings.** `jnp.vectorize(k, signature=\"(d),(d),()->()\")` "
        "is NumPy's generalised ufunc built on vmap; two nested vmaps and plain broadcasting "
        "write the same Gram matrix by hand. Their jaxprs differ only in reshaping: the "
        "arithmetic on the (N, N, D) and (N, N) arrays is the same, equation for equation.")
    n, d = data.X.shape
    rows = st.slider("Rows in the jaxprs", 2, 8, FORMS_JAXPR_ROWS, key="further_forms_rows",
                     bind="query-params")
    with dtype_scope(settings.dtype):
        info = forms.form_jaxprs(rows, d, settings.dtype)
        K = {name: np.asarray(v) for name, v in forms.form_results(data.X, settings.gamma).items()}
        flops = {name: forms.compiled_flops(name, n, d, settings.dtype) for name in forms.FORMS}
    base = info["broadcasting"]["arithmetic"]
    st.dataframe(pd.DataFrame({
        "form": list(forms.FORMS),
        "equations": [sum(v["counts"].values()) for v in info.values()],
        "reshaping equations": [sum(c for p, c in v["counts"].items() if p in forms.RESHAPING)
                                for v in info.values()],
        "same arithmetic as broadcasting": ["yes" if v["arithmetic"] == base else "no"
                                            for v in info.values()],
        f"XLA flops, N = {n:,}": [f"{flops[k]:,.0f}" for k in forms.FORMS],
        "max |Δ| to broadcasting": [f"{np.max(np.abs(K[k] - K['broadcasting'])):.2g}"
                                    for k in forms.FORMS],
    }), hide_index=True, key="w_further_forms_table")
    st.plotly_chart(equation_bars({k: dict(v["counts"]) for k, v in info.items()},
                                  f"Equations in each jaxpr, X of shape ({rows}, {d})"),
                    key="w_further_forms_chart")
    columns = st.columns(3)
    for col, (name, v) in zip(columns, info.items()):
        col.markdown(f"**{name}**")
        col.code(v["text"], language=None)
    source(forms.rbf, forms.gram_vectorize, forms.gram_nested_vmap, forms.gram_broadcast)


def render_custom(settings, data) -> None:
    st.markdown(
        "**Custom batching.** `jax.custom_batching.custom_vmap` lets a function say what it "
        "becomes under vmap. `rbf_pair` is written for two points; its rule computes a whole "
        "batch with |x − y|² = |x|² + |y|² − 2 x·y, a matrix-vector product.")
    X = data.X[:CALLBACK_MAX_ROWS]
    n, d = X.shape
    with dtype_scope(settings.dtype):
        K = np.asarray(custom.custom_gram(X, settings.gamma))
        K_plain = np.asarray(forms.gram_nested_vmap(X, settings.gamma))
        one, batched = custom.custom_jaxpr(n, d, settings.dtype)
    st.metric("max |Δ| between the rule's Gram matrix and plain nested vmap",
              f"{np.max(np.abs(K - K_plain)):.2g}",
              help="The rule adds |x|² + |y|² − 2x·y in a different order: round-off only.")
    source(custom.rbf_pair, custom.rbf_pair_rule, custom.custom_gram)
    left, right = st.columns(2)
    left.markdown("**One call**: the function as written (`sub`, `integer_pow`)")
    left.code(one, language=None)
    right.markdown(f"**Under two vmaps, {n} rows**: the rule (`dot_general`)")
    right.code(batched, language=None)

    st.subheader("pure_callback: how vmap reaches host code")
    st.markdown("`jax.pure_callback` runs NumPy on the host. Under vmap, `vmap_method` says "
                f"how: below, the callback computes one Gram row for each of {n} rows.")
    labels = {m: str(m) for m in custom.VMAP_METHODS}
    method = st.radio("vmap_method", list(labels.values()), horizontal=True,
                      key="further_vmap_method", bind="query-params")
    chosen = None if method == "None" else method
    with dtype_scope(settings.dtype):
        results = once_per_key("callbacks", (data.key, settings.dtype, settings.gamma), lambda: {
            m: custom.callback_calls(m, X, settings.gamma) for m in custom.VMAP_METHODS})
    mine = results[chosen]
    if mine["error"]:
        st.info(f"JAX refused, as documented: {mine['error']}", icon=":material/block:")
    else:
        st.success(f"{counted(len(mine['calls']), 'host call')}; the first received x, X, "
                   f"gamma of shapes {mine['calls'][0]}.", icon=":material/check_circle:")
    st.dataframe(pd.DataFrame({
        "vmap_method": [labels[m] for m in results],
        "what it does": list(custom.VMAP_METHODS.values()),
        "host calls": [len(r["calls"]) for r in results.values()],
        "shapes in the first call": [str(r["calls"][0]) if r["calls"] else "—"
                                     for r in results.values()],
        "max |Δ| to the rule": [f"{np.max(np.abs(r['output'] - K)):.2g}"
                                if r["output"] is not None else "refused"
                                for r in results.values()],
    }), hide_index=True, key="w_further_callback_table")
    source(custom.host_rbf, custom.callback_calls)


def render_devices(settings, data) -> None:
    st.markdown(
        "**The mapped axis over devices.** The rows vmap maps over can be split over "
        "devices: `jax.shard_map` gives each device its block of rows and vmap batches inside "
        "it; `vmap(..., spmd_axis_name=\"rows\")` keeps the batch axis split over the mesh "
        "axis in every intermediate.")
    st.page_link("app_pages/scale.py", label="The Scale page runs this on a million rows",
                 icon=":material/zoom_out_map:")
    how = st.radio("Way", ("shard_map", "spmd_axis_name"), horizontal=True,
                   key="further_devices_way", bind="query-params")
    count = jax.device_count()
    n = (min(data.X.shape[0], DEVICES_MAX_ROWS) // count) * count
    if n == 0:
        st.info(f"N = {data.X.shape[0]} points are fewer than the {count} devices, so some "
                f"device would get no row: raise N in the sidebar to at least {count}.",
                icon=":material/info:")
        return
    X = data.X[:n]
    with dtype_scope(settings.dtype):
        result = sharding.sharded_gram(X, settings.gamma, "shard_map" if how == "shard_map"
                                       else "spmd")
        K_plain = np.asarray(forms.gram_nested_vmap(X, settings.gamma))
    c1, c2, c3 = st.columns(3)
    c1.metric("devices", f"{result['devices']}", help=", ".join(str(d) for d in jax.devices()))
    c2.metric("output sharding", result["spec"])
    c3.metric("max |Δ| to one-device vmap", f"{np.max(np.abs(np.asarray(result['K']) - K_plain)):.2g}")
    shards = [(device, " × ".join(f"{n:,}" for n in shape)) for device, shape in result["shards"]]
    st.dataframe(pd.DataFrame(shards, columns=["device", "rows × columns it holds"]),
                 hide_index=True, key="w_further_shards_table")
    if count == 1:
        st.caption("This machine has one device, so the single shard is the whole matrix. "
                   "Start the app with XLA_FLAGS=--xla_force_host_platform_device_count=4 to "
                   "split the CPU into 4 devices: each then holds N/4 rows.")
    source(sharding.gram_row, sharding.gram_shard_map if how == "shard_map"
           else sharding.gram_spmd, sharding.sharded_gram)
    with st.expander("The program (jaxpr): `@rows` marks an axis split over the mesh"):
        st.code(result["jaxpr"], language=None)


def tab_controls(tab: str) -> dict[str, Any]:
    """The open tab's own controls, as its render function read them, and its row caps:
    the keyword arguments of its view (`core.views.further.TAB_VIEWS[tab]`)."""
    ss = st.session_state
    return {
        "Collectives": lambda: dict(collective=ss["further_collective"],
                                    copies=int(ss["further_copies"]), max_rows=COLLECTIVE_MAX_ROWS),
        "Control flow": lambda: dict(decades=int(ss["further_decades"]),
                                     fractions=list(COND_FRACTIONS), max_rows=CONTROL_MAX_ROWS),
        "Random keys": lambda: dict(key_seed=int(ss["further_key_seed"]),
                                    noise_scale=float(ss["further_noise_scale"])),
        "Jacobians": lambda: dict(n=int(ss["further_jac_n"]), m=int(ss["further_jac_m"]),
                                  vary=ss["further_jac_vary"].split()[-1],
                                  sweep_sizes=list(SWEEP_SIZES)),
        "Memory": lambda: dict(k=int(ss["further_knn_k"]), max_rows=MEMORY_MAX_ROWS),
        "Vectorize": lambda: dict(rows=int(ss["further_forms_rows"])),
        "Custom batching": lambda: dict(max_rows=CALLBACK_MAX_ROWS),
        "Devices": lambda: dict(way=ss["further_devices_way"], max_rows=DEVICES_MAX_ROWS),
    }[tab]()
