"""The "Custom batching" tab of vmap, further: a `custom_vmap` rule, and
`pure_callback`'s `vmap_method`.

Its controls are keyed `further_*` and bound to the URL (`ui.state.url.bound`); the
numbers come from `core.lessons.further.custom`.
"""

from __future__ import annotations

import jax
import numpy as np
import pandas as pd
import streamlit as st

from core.lessons.further import custom, forms
from core.precision import dtype_scope
from ui.charts.further import source
from ui.charts.words import counted
from ui.state.further import CALLBACK_MAX_ROWS, once_per_key
from ui.state.url import bound

__all__ = ["render_custom"]


def render_custom(settings, data) -> None:
    """The Custom batching tab, for the sidebar's `settings` and `data`."""
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
    method = bound(st.radio, "vmap_method", list(labels.values()), horizontal=True,
                   key="further_vmap_method")
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
