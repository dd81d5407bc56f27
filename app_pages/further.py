"""vmap, further: the parts of vmap the notes never reach, one tab a topic.

Only the open tab is computed; the tab and each tab's controls are in the URL
(`bind="query-params"`), so a copied address opens the same view.
"""

from __future__ import annotations

import streamlit as st

from ui.state.cache import load_data
from ui.export import data_source, reproduce_control
from ui.further_batching import render_collectives, render_control, render_jacobians, render_random
from ui.further_programs import (render_custom, render_devices, render_forms, render_memory,
                                 tab_controls)
from ui.state.settings import grid_label
from ui.state.sidebar import render_sidebar

TOPICS = {
    "Collectives": render_collectives,
    "Control flow": render_control,
    "Random keys": render_random,
    "Jacobians": render_jacobians,
    "Memory": render_memory,
    "Vectorize": render_forms,
    "Custom batching": render_custom,
    "Devices": render_devices,
}

settings = render_sidebar()
data = load_data(settings)
st.title("vmap, further")
st.markdown(
    f"What the notes stop short of, live on **{data.name}** (X: {data.X.shape}, "
    f"{settings.dtype}, gamma = {grid_label(settings.gamma)} from the sidebar). Each tab: what it is, "
    "a live example, the code that ran, and the program JAX built.")
export_slot = st.container()  # filled once the open tab has read its controls
tabs = st.tabs(list(TOPICS), key="further_topic", bind="query-params")
for (topic, render), tab in zip(TOPICS.items(), tabs):
    if tab.open:
        with tab:
            render(settings, data)
        with export_slot:
            reproduce_control("further", data_source(settings), dict(
                tab=topic, dtype=settings.dtype, gamma=float(settings.gamma),
                controls=tab_controls(topic)), notes=[
                f"The open tab, **{topic}**: its arrays, computed here (timings included)."])
