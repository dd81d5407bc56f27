"""Helpers for pages that run long work: abandoning a computation as soon as the
user asks for something else. (Choices survive page visits through `ui.state.url.bound`.)"""

from __future__ import annotations

from typing import Callable


__all__ = ["interruption_check", "should_stop_for_streamlit"]


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
