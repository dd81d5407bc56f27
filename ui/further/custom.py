"""The "Custom batching" tab of vmap, further: a `custom_vmap` rule, and
`pure_callback`'s `vmap_method`.

Its controls are keyed `further_*` and bound to the URL (`ui.state.url.bound`); the
numbers come from its view, `core.views.further` (which runs `core.lessons.further.custom`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from core.lessons.further import custom
from core.precision import dtype_scope
from core.views.further import callback_methods, custom_rule
from ui.charts.further import source
from ui.charts.words import counted
from ui.state.further import CALLBACK_MAX_ROWS, CUSTOM_URL as URL, once_per_key
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
    rule = custom_rule(X, settings.dtype, settings.gamma, max_rows=n)
    with dtype_scope(settings.dtype):
        one, batched = custom.custom_jaxpr(n, d, settings.dtype)
    st.metric("max |Δ| between the rule's Gram matrix and plain nested vmap",
              f"{np.max(np.abs(rule['K'] - rule['K_plain'])):.2g}",
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
    labels = [str(m) for m in custom.VMAP_METHODS]
    method = bound(st.radio, "vmap_method", labels, horizontal=True, key=URL.vmap_method)
    view = once_per_key("callbacks", (data.key, settings.dtype, settings.gamma), lambda:
                        callback_methods(X, settings.dtype, settings.gamma, max_rows=n))
    mine = view["vmap_methods"].tolist().index(method)
    if view["callback_error"][mine]:
        st.info(f"JAX refused, as documented: {view['callback_error'][mine]}", icon=":material/block:")
    else:
        st.success(f"{counted(int(view['host_calls'][mine]), 'host call')}; the first received x, X, "
                   f"gamma of shapes {view['callback_first_call'][mine]}.",
                   icon=":material/check_circle:")
    st.dataframe(pd.DataFrame({
        "vmap_method": view["vmap_methods"],
        "what it does": list(custom.VMAP_METHODS.values()),
        "host calls": view["host_calls"],
        "shapes in the first call": [c or "—" for c in view["callback_first_call"].tolist()],
        "max |Δ| to the rule": ["refused" if np.isnan(v) else f"{v:.2g}"
                                for v in view["callback_max_abs_diff"]],
    }), hide_index=True, key="w_further_callback_table")
    source(custom.host_rbf, custom.callback_calls)
