"""The Workbench page's Streamlit side: the source box, its examples, the kernel's own
parameters, and the results of the user's kernel, kept per session.

User text reaches code only through `core.workbench` (its allowlisted language, run in a
bounded worker process); on screen it goes through `st.code` alone, never Markdown.
"""

from __future__ import annotations

import collections
from typing import Any, Callable

import pandas as pd
import streamlit as st

from core.bench.timing import TimingResult
from core.bench.report import format_seconds
from core.errors import UserCodeError
from core.views.workbench import FRAME_COUNT, FRAME_SIDE, frame_gammas  # the export's grid too
from core.workbench.examples import EXAMPLES
from core.workbench.run import WorkbenchBusy
from core.workbench.language import MAX_PARAMS, MAX_SOURCE_CHARS, CheckedSource, check_source
from ui.state.url import bound, url_keys

__all__ = ["URL", "WORKBENCH_PARAM_PREFIX", "SOURCE_KEY", "LIVE_KEY", "DEFAULT_EXAMPLE", "PARAM_GRID", "FRAME_COUNT", "FRAME_SIDE",
           "example_menu", "source_box", "checked", "show_refusal", "param_controls",
           "frame_gammas", "session_result", "result_or_refusal", "findings_view", "ways_table",
           "timings_table"]

WORKBENCH_PARAM_PREFIX = "wb_"  # the URL parameters of the user's kernel's own parameters: wb_<name>
# The Workbench's URL names: /workbench?source=<url-encoded text>&wb_<name>=<value>.
URL = url_keys("workbench", prefixes=(WORKBENCH_PARAM_PREFIX,), source="source")
SOURCE_KEY = URL.source
_EXAMPLE_KEY = "w_wb_example"
_BLURB = "_wb_blurb"  # the blurb of the example that filled the box last
LIVE_KEY = "w_wb_live"
DEFAULT_EXAMPLE = next(iter(EXAMPLES))  # the notes' RBF, verbatim
# Every parameter of the user's own besides gamma: round values from 0.001 to 1000, about
# log-spaced (10 a decade), each shown and put in the URL as exactly the number it is.
PARAM_LOW, PARAM_HIGH = 1e-3, 1e3
_MANTISSAS = (1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 6, 8)
PARAM_GRID = tuple(float(f"{m * 10.0 ** e:.6g}") for e in range(-3, 3) for m in _MANTISSAS) + (PARAM_HIGH,)
_RESULTS = "_wb_results"
_KEEP = 4  # results kept per session (each holds at most a few MB)


def _fill_from_example() -> None:
    name = st.session_state.get(_EXAMPLE_KEY)
    if name in EXAMPLES:
        st.session_state[SOURCE_KEY] = EXAMPLES[name].source
        st.session_state[_BLURB] = EXAMPLES[name].blurb
    st.session_state[_EXAMPLE_KEY] = None  # a menu of actions: it fills the box, then rests


def example_menu() -> None:
    """A menu whose choice replaces the box's text with that example (and says what it shows)."""
    st.selectbox("Start from an example", list(EXAMPLES), index=None, key=_EXAMPLE_KEY,
                 placeholder="Choose an example to put in the box…", on_change=_fill_from_example)
    blurb = st.session_state.get(_BLURB)
    if blurb:
        st.caption(blurb)


def source_box() -> str:
    """The code box, bound to the URL as `source` (its default, the notes' RBF, leaves the URL clean)."""
    st.html(f"<style>.st-key-{SOURCE_KEY} textarea {{font-family: var(--st-code-font, monospace); "
            "font-size: 0.85rem;}</style>")
    return bound(st.text_area, "Your kernel, for one pair of vectors: k(params, x, y)",
                 key=SOURCE_KEY, value=EXAMPLES[DEFAULT_EXAMPLE].source, height=220,
                 help=(f"Python in the notes' style, at most {MAX_SOURCE_CHARS:,} characters: "
                       "`np.` is jax.numpy, `lax.` is jax.lax. The kernel is the function named "
                       "`kernel`, else the last one defined. Press Ctrl+Enter (or click outside "
                       "the box) to run it."))


def show_refusal(error: UserCodeError) -> None:
    """Why the source cannot run: a fixed sentence, then the message as code (never Markdown)."""
    st.error("This kernel cannot run in the workbench. What the check says:", icon=":material/block:")
    st.code(str(error), language=None, wrap_lines=True)


def checked(source: str) -> CheckedSource | None:
    """The source's static check (no code runs): the checked source, or None after showing why not."""
    try:
        return check_source(source)
    except UserCodeError as error:
        show_refusal(error)
        return None


def param_controls(names: tuple[str, ...]) -> dict[str, float]:
    """A log-scale slider for each `params['name']` of the source but gamma, bound to `wb_<name>`."""
    own = [name for name in names if name != "gamma"]
    if not own:
        return {}
    st.caption(f"Your kernel's own parameters (at most {MAX_PARAMS}; `params['gamma']` is the "
               f"shared gamma): each on a log scale from {PARAM_LOW:g} to {PARAM_HIGH:g} (10 round values "
               "a decade), 1 by default.")
    values = {}
    for column, name in zip(st.columns(len(own)), own):
        values[name] = bound(column.select_slider, f"params['{name}']", key=WORKBENCH_PARAM_PREFIX + name,
                             options=PARAM_GRID, value=1.0, format_func=lambda v: f"{v:g}")
    return values


def session_result(key: tuple, compute: Callable[[], Any]) -> Any:
    """`compute()`'s result (or the `UserCodeError` it raised) for `key`, kept for this session.

    A bounded per-session store (the last `_KEEP` keys): a rerun that changes nothing
    (a fragment, a page switch and back) does not run the user's program again, and a
    refused program is not retried until its source, data or parameters change. A
    `WorkbenchBusy` (no worker free: the server's load, not the source) is not kept.
    """
    store = st.session_state.setdefault(_RESULTS, collections.OrderedDict())
    if key in store:
        store.move_to_end(key)
        return store[key]
    try:
        value = compute()
    except WorkbenchBusy as error:
        return error
    except UserCodeError as error:
        value = error
    store[key] = value
    while len(store) > _KEEP:
        store.popitem(last=False)
    return value


def result_or_refusal(key: tuple, compute: Callable[[], Any], doing: str | None = None) -> Any:
    """`session_result(key, compute)` (under a spinner saying `doing`), or None after
    showing why the workbench did not run it."""
    if doing is None:
        value = session_result(key, compute)
    else:
        with st.spinner(doing):
            value = session_result(key, compute)
    if isinstance(value, UserCodeError):
        show_refusal(value)
        return None
    return value


def findings_view(findings: list) -> None:
    """Each finding: its title and sentence, and a link to the page that teaches it."""
    if not findings:
        st.success("Nothing to report: no branch turned into a select, no loop, no gather, no "
                   "linear algebra, no NaN, symmetric and positive semi-definite on these points.",
                   icon=":material/check_circle:")
        return
    for finding in findings:
        text = f"**{finding.title}.** {finding.sentence}"
        if finding.link:
            text += f" [Where the app teaches it]({finding.link})."
        (st.warning if finding.kind in _WARNINGS else st.info)(text)
        if finding.detail:
            st.caption(finding.detail)


_WARNINGS = frozenset({"nan", "nan_grad", "not_psd", "not_symmetric", "memory", "while"})


def ways_table(ways: dict, dtype: str) -> pd.DataFrame:
    """One row per batching way: how it is written and its largest difference from Method I."""
    return pd.DataFrame({
        "way": list(ways),
        "largest |K − K(Method I)|": [f"{w.max_abs_diff:.2e}" for w in ways.values()],
        "agrees": ["yes" if w.agrees else f"no (above {dtype}'s tolerance)" for w in ways.values()],
    })


def timings_table(timings: dict[str, TimingResult], reference: str) -> pd.DataFrame:
    """Median time per call with its spread, compile time apart, and the ratio to `reference`."""
    ref = timings[reference].median_s
    return pd.DataFrame({
        "program": list(timings),
        "median per call": [format_seconds(t.median_s) for t in timings.values()],
        "fastest – slowest": [f"{format_seconds(min(t.times_s))} – {format_seconds(max(t.times_s))}"
                              for t in timings.values()],
        "runs": [len(t.times_s) for t in timings.values()],
        "compile": [format_seconds(t.compile_s) for t in timings.values()],
        f"× {reference}": [f"{t.median_s / ref:.2g}" for t in timings.values()],
    })
