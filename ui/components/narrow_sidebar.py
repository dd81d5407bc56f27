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

Below the same width the page's columns stack (`_STACK_CSS`): Streamlit stacks
`st.columns` only at 640 px and below, so between 640 and 1000 px side-by-side charts
and controls were squeezed into a few hundred pixels each.
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


# Streamlit's own rule for its 640 px breakpoint, applied below NARROW_PX: each column
# at least the full row's width (less the gap), so the row wraps into a stack.
_STACK_CSS = (f"@media (max-width: {NARROW_PX - 0.02}px) {{ .stMain [data-testid='stColumn'] "
              "{ min-width: calc(100% - 2rem); } }")


def collapse_sidebar_when_narrow() -> None:
    """Mount the component (nothing visible) in the main area, and the CSS that stacks the
    page's columns below `NARROW_PX`; call it on every run."""
    token = st.session_state.setdefault(_TOKEN, secrets.token_hex(8))
    st.html(f"<style>.st-key-{_KEY} {{display: none;}} {_STACK_CSS}</style>")
    _component(key=_KEY, data={"below": NARROW_PX, "session": token}, height="content")
