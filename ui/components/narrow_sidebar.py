"""The sidebar starts collapsed on a narrow window (below `NARROW_PX`).

Streamlit 1.67's `initial_sidebar_state="auto"` collapses the sidebar only at 768 px
and below (its "md" breakpoint); `st.set_page_config` takes no other threshold, and
`st.context` does not know the window's width. Between 768 and 1000 px the open
sidebar (about 300 px) leaves the page too narrow for its charts, so this
JavaScript-only `st.components.v2` component (narrow_sidebar.js), on a session's
first run, presses Streamlit's own collapse button when `window.innerWidth <
NARROW_PX`. It does so once per session (a token in the session's state, kept in
the tab's sessionStorage): a user who opens the sidebar again keeps it open through
every rerun and page; and never where the user's own choice is remembered
(Streamlit's localStorage entry).
"""

from __future__ import annotations

import secrets
from pathlib import Path

import streamlit as st

__all__ = ["NARROW_PX", "collapse_sidebar_when_narrow"]

NARROW_PX = 1000
_KEY = "vmap_narrow_sidebar"  # the component's key, and its element's CSS class st-key-…
_TOKEN = "_narrow_sidebar_session"  # session state: this session's token

_component = st.components.v2.component(
    "vmap_narrow_sidebar",
    js=(Path(__file__).parent / "narrow_sidebar.js").read_text(),
)


def collapse_sidebar_when_narrow() -> None:
    """Mount the component (nothing visible) in the main area; call it on every run."""
    token = st.session_state.setdefault(_TOKEN, secrets.token_hex(8))
    st.html(f"<style>.st-key-{_KEY} {{display: none;}}</style>")
    _component(key=_KEY, data={"below": NARROW_PX, "session": token}, height="content")
