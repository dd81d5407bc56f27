"""vmap, further: the parts of vmap the notes never reach, one tab a topic.

Only the open tab is computed; the tab and each tab's controls are in the URL
(`ui.state.url.bound`), so a copied address opens the same view.
"""

from __future__ import annotations

import streamlit as st

from ui.export import data_source, reproduce_control
from ui.further import TOPICS
from ui.state.cache import load_data
from ui.state.further import URL, tab_controls
from ui.state.settings import grid_label
from ui.state.sidebar import render_sidebar
from ui.state.url import bound

settings = render_sidebar()
data = load_data(settings)
st.title("vmap, further")
st.markdown(
    f"What the notes stop short of, live on **{data.name}** (X: {data.X.shape}, "
    f"{settings.dtype}, gamma = {grid_label(settings.gamma)} from the sidebar). Each tab: what it is, "
    "a live example, the code that ran, and the program JAX built.")
export_slot = st.container()  # filled once the open tab has read its controls
tabs = bound(st.tabs, list(TOPICS), key=URL.topic)
for (topic, render), tab in zip(TOPICS.items(), tabs):
    if tab.open:
        with tab:
            render(settings, data)
        with export_slot:
            reproduce_control("further", data_source(settings), dict(
                tab=topic, dtype=settings.dtype, gamma=float(settings.gamma),
                controls=tab_controls(topic)), notes=[
                f"The open tab, **{topic}**: its arrays, computed here (timings included)."])
