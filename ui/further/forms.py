"""The "Vectorize" tab of vmap, further: one program, three spellings
(`jnp.vectorize`, nested vmap, broadcasting).

Its controls are keyed `further_*` and bound to the URL (`ui.state.url.bound`); the
numbers come from `core.lessons.further.forms`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from core.lessons.further import forms
from core.precision import dtype_scope
from ui.charts.further import equation_bars, source
from ui.state.further import FORMS_JAXPR_ROWS
from ui.state.url import bound

__all__ = ["render_forms"]


def render_forms(settings, data) -> None:
    """The Vectorize tab, for the sidebar's `settings` and `data`."""
    st.markdown(
        "**One program, three spellings.** `jnp.vectorize(k, signature=\"(d),(d),()->()\")` "
        "is NumPy's generalised ufunc built on vmap; two nested vmaps and plain broadcasting "
        "write the same Gram matrix by hand. Their jaxprs differ only in reshaping: the "
        "arithmetic on the (N, N, D) and (N, N) arrays is the same, equation for equation.")
    n, d = data.X.shape
    rows = bound(st.slider, "Rows in the jaxprs", 2, 8, FORMS_JAXPR_ROWS, key="further_forms_rows")
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
