"""Refusals drawn on the page: a dense computation that would not fit says so."""

from __future__ import annotations

import streamlit as st

from core.dense.methods import GramMethod

__all__ = ["dense_guard"]


def dense_guard(method: GramMethod, n: int, m: int, d: int, dtype: str) -> bool:
    """True if `method` will run at this size; otherwise show why and the way out."""
    reason = method.declines(n, m, d, dtype)
    if reason:
        st.error(reason, icon=":material/memory:")
        return False
    return True
