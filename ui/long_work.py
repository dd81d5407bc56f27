"""Helpers for pages that run long work: choices that survive page visits, and
abandoning a computation as soon as the user asks for something else."""

from __future__ import annotations

from typing import Any, Callable

import streamlit as st

__all__ = ["keep", "interruption_check", "should_stop_for_streamlit"]


def keep(key: str, default: Any) -> dict[str, Any]:
    """Widget kwargs that keep `key`'s value in `_<key>` across page visits.

    Streamlit forgets a widget's state when a page without it runs; the stored
    copy re-seeds it, so the choices (and the results labelled with them) survive.
    """
    ss = st.session_state
    ss.setdefault("_" + key, default)
    ss[key] = ss["_" + key]
    return dict(key=key, on_change=lambda: ss.__setitem__("_" + key, ss[key]))


def interruption_check() -> Callable[[], None]:
    """A callable that raises Streamlit's rerun/stop when a click or setting asked for one.

    Streamlit interrupts a run only at its own calls; this is that check without
    drawing anything, so a Stop click or a new setting abandons a long
    computation after the current step. Internal API, hence the guard: without
    it the work simply runs to its end.
    """
    try:
        from streamlit.runtime.scriptrunner_utils.script_run_context import get_run_yield_check

        check = get_run_yield_check()
    except ImportError:
        check = None
    return check or (lambda: None)


def should_stop_for_streamlit() -> Callable[[], bool]:
    """`should_stop` for core loops: never True, but raises Streamlit's interruption."""
    check = interruption_check()

    def should_stop() -> bool:
        check()
        return False

    return should_stop
