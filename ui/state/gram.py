"""The Gram explorer's point selections: from the scatter plot, and from a clicked heatmap cell.

Both are kept in the session: the scatter's selection by its own widget key, a clicked
cell (display rows i, j of the live heatmap) as the data's point indices.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from core.scale.pooling import pool_factor
from ui.state.url import url_keys

__all__ = ["URL", "SCATTER_KEY", "LIVE_KEY", "selected_points", "picked_points", "keep_picked",
           "rerun_if_picked"]

SCATTER_KEY = "w_gram_scatter"
LIVE_KEY = "w_gram_live"
_PICKED, _PICKED_NEW = "_gram_picked", "_gram_picked_new"
# The Gram explorer's URL names: points ordered by label, and the comparison with another method.
URL = url_keys("gram", order="w_gram_order", compare="w_gram_compare", other="w_gram_other")


def selected_points() -> list[int]:
    """Point indices selected in the scatter (its state from the last event)."""
    event = st.session_state.get(SCATTER_KEY)
    points = event.selection.get("points", []) if event else []
    return sorted({int(p["customdata"]) for p in points if "customdata" in p})


def picked_points() -> list[int]:
    """Points of the heatmap cell clicked last (both of them), data order."""
    return st.session_state.get(_PICKED, [])


def keep_picked(n: int, order: np.ndarray | None) -> None:
    """The live heatmap's callback for a clicked cell (display rows i, j; the first of each
    block when pooled): both points, every point of their blocks, kept in data order."""
    picked = st.session_state[LIVE_KEY].picked or {}
    f = pool_factor(n)
    rows = [r for key in ("i", "j") if isinstance(picked.get(key), int) and 0 <= picked[key] < n
            for r in range(picked[key], min(n, picked[key] + f))]
    display_to_point = np.arange(n) if order is None else order
    st.session_state[_PICKED] = sorted({int(display_to_point[r]) for r in rows})
    st.session_state[_PICKED_NEW] = True


def rerun_if_picked() -> None:
    """A full rerun after a click on the heatmap: the scatter, outside the fragment, shows the pair."""
    if st.session_state.pop(_PICKED_NEW, False):
        st.rerun()
