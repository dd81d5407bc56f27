"""The "Vectorize" tab of vmap, further: one program, three spellings
(`jnp.vectorize`, nested vmap, broadcasting).

Its controls are keyed `further_*` and bound to the URL (`ui.state.url.bound`); the
numbers come from its view, `core.views.further` (which runs `core.lessons.further.forms`).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.lessons.further import forms
from core.views.further import forms_tab
from ui.charts.further import equation_bars, source
from ui.state.further import FORMS_JAXPR_ROWS, FORMS_URL as URL
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
    rows = bound(st.slider, "Rows in the jaxprs", 2, 8, FORMS_JAXPR_ROWS, key=URL.rows)
    view = forms_tab(data.X, settings.dtype, settings.gamma, rows=rows)
    names = view["forms"].tolist()
    counts = {name: {p: c for p, c in zip(view["primitives"].tolist(), row) if c}
              for name, row in zip(names, view["equations"].tolist())}
    st.dataframe(pd.DataFrame({
        "form": names,
        "equations": view["equations"].sum(axis=1),
        "reshaping equations": view["equations"][:, view["reshaping"]].sum(axis=1),
        "same arithmetic as broadcasting": ["yes" if same else "no" for same in view["same_arithmetic"]],
        f"XLA flops, N = {n:,}": [f"{f:,.0f}" for f in view["flops"]],
        "max |Δ| to broadcasting": [f"{v:.2g}" for v in view["max_abs_diff"]],
    }), hide_index=True, key="w_further_forms_table")
    st.plotly_chart(equation_bars(counts, f"Equations in each jaxpr, X of shape ({rows}, {d})"),
                    key="w_further_forms_chart")
    columns = st.columns(3)
    for col, name, text in zip(columns, names, view["jaxpr"].tolist()):
        col.markdown(f"**{name}**")
        col.code(text, language=None)
    source(forms.rbf, forms.gram_vectorize, forms.gram_nested_vmap, forms.gram_broadcast)
