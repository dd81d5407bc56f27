"""Overview: what vmap is, the idea live on the current data, and the way to every page."""

from __future__ import annotations

import inspect

import pandas as pd
import streamlit as st
from streamlit.errors import StreamlitAPIException

from core.kernels.distances import sqeuclidean_distances
from core.lessons.predict import predict
from core.views.overview import data_2d, vmap_ladder_table
from ui.state.cache import load_data
from ui.charts.shared import projection_axis_titles, scatter_2d
from ui.export import data_source, reproduce_control
from ui.page_index import PAGES
from ui.state.sidebar import render_sidebar

settings = render_sidebar(uses=frozenset({"data", "seed", "precision"}))  # no kernel, no gamma
data = load_data(settings)
n, d = data.X.shape

st.title("vmap explorer")
st.markdown(
    "`jax.vmap` takes a function written for **one** example, say one vector $x$ of shape "
    "(D,), and returns a function that takes a whole **batch**, an array with one more "
    "axis, and returns one result per example. You write the maths as it reads on paper, "
    "$k(x, y)$ for two vectors or $\\tanh(w\\cdot x + b)$ for one input, and vmap pushes the "
    "batch axis through every operation, so the batch runs as a few array operations "
    "instead of a Python loop. Nest it and a function of two vectors becomes a whole Gram "
    "matrix; compose it with `jax.grad` and you get one gradient per sample."
)

st.header("The idea, live on your data")
st.markdown(f"**{data.name}**: X has shape ({n:,}, {d}), {settings.dtype}.")
st.markdown("Two functions in vector form, exactly as this app runs them:")
# One under the other, full width, and wrapped where the window is narrower still: side by
# side, their ~80-character lines were cut off behind a scroll bar at every width.
st.code(inspect.getsource(predict), language="python", wrap_lines=True)
st.code(inspect.getsource(sqeuclidean_distances), language="python", wrap_lines=True)
ladder = vmap_ladder_table(data.X, settings.seed)
st.markdown("The same functions at three batch levels, shapes measured just now "
            "(`x = X[0]`, `y = X[1]`, `params = init_params(D, seed)`):")
st.dataframe(pd.DataFrame({
    "call": ladder["ladder_calls"], "inputs": ladder["ladder_inputs"],
    "output shape": ladder["ladder_shapes"],
}), hide_index=True, key="w_overview_ladder", width="stretch")
st.caption("The last row is traced with `jax.eval_shape`, not run: its unjitted form "
           f"would hold an ({n:,}, {n:,}, {d}) difference array. The Gram explorer "
           "computes the full matrix.")

points = data_2d(data.X)
shown = "" if d <= 2 else f", projected from {d}-D onto its first two principal components"
st.plotly_chart(scatter_2d(points["Z"], data.y, f"The current data: {data.name}{shown}",
                           projection_axis_titles(d, points["explained"])),
                key="w_overview_scatter")
if data.note:
    st.caption(data.note)
reproduce_control("overview", data_source(settings), {"seed": int(settings.seed)}, notes=[
    f"{data.name} projected to 2-D (`Z`, the scatter plot), and the vmap ladder: `predict` "
    "and `sqeuclidean_distances` at three batch levels, with the output shapes measured "
    "(`ladder_shapes`)."])

st.header("Where to next")
available = [(file, info) for file, info in PAGES.items() if file != "overview.py"]
try:
    for file, info in available:
        st.page_link(f"app_pages/{file}", label=f"**{info.title}**: {info.blurb}", icon=info.icon)
except StreamlitAPIException:
    # st.page_link needs the page registered by st.navigation (app.py); run on its
    # own (e.g. by a test harness) the page names are listed instead.
    st.markdown("\n".join(f"- **{info.title}**: {info.blurb}" for _, info in available))
    st.caption("Open the pages from the navigation menu.")
