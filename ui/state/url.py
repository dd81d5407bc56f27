"""The URL as a shared view: what Streamlit's widget binding does not do by itself.

Every control that defines what a page shows is drawn with `bound(...)`, which
passes `bind="query-params"` (the value is mirrored in the address bar under the
widget's key) and `persist_state="session"` (the value survives page switches).
Streamlit then seeds the widget from a shared link, and it drops a URL value it
cannot use (not an option, outside the slider's range: the caps on N and gamma
are the ranges of their sliders) silently. This module adds:

- a notice when a URL value was refused and the control fell back, so a shared
  link that no longer reproduces a view says so instead of looking right;
- the registry of URL parameter names (`url_keys`, in ui/state/url_keys.py and
  re-exported here): each page declares its names (and families of names by prefix)
  at import, in the module where its controls are defined, named by the page's
  `controls` in ui/page_index.py; `bound` refuses an undeclared key;
- a notice, and removal from the URL, for parameters no page declares: the
  session's first run imports every page's declaring modules before it prunes
  (`declare_all`), so a deep link to a page not yet run keeps its values;
- the values a control showed before a page switch, on the new page
  (`page_run`): Streamlit 1.67 drops a bound value seeded from the URL in a
  session's first run when the very next run is on another page (see `page_run`);
  and a change the user made just before clicking another page, which Streamlit
  drops when the switch reaches the server before that change's run started.

Only the first run of a session reads the URL (`start`); later runs change the
URL through the widgets, never the other way round.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qsl

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from ui.state.settings import GAMMAS, grid_label, kernel_param_specs, log_grid
from ui.state.url_keys import UrlKeys, declare_all, declared, is_known, owner_of, url_keys

__all__ = ["UrlKeys", "url_keys", "owner_of", "is_known", "declared", "declare_all", "bound", "start",
           "code", "from_link", "page_run"]

_PENDING = "_url_pending"  # URL values of the session's first run not yet checked
_LAST = "_url_last"  # {key: value}: each bound control's value the last time it was drawn
_PAGE_NOW = "_url_page_now"  # the page app.py is running (`page_run`), during its run only
_PAGE = "_url_page"  # the page of the last full run that drew the sidebar (`start`)
_SWITCHED = "_url_switched"  # True only during the first full run on a page after a switch
_AT_SWITCH = "_url_at_switch"  # {key: [values]}: the address bar the switch's request carried

# The log-grid controls, whose URL value is the grid value's `grid_label` (4 digits).
_LOG_GRIDS = {"gamma": GAMMAS, **{p.name: log_grid(p.low, p.high, p.default)
                                  for p in kernel_param_specs().values() if p.log}}


def _from_older_link(key: str, raw: list[str]) -> float | None:
    """The grid value an older link's 3-digit label stands for ("gamma=0.2" for 0.1995).

    Links copied before the URL held `grid_label`'s 4 digits wrote 3; each such label
    names one grid value (20 a decade are more than 3 digits apart), so such a link
    still opens what its sender saw. None: `raw` is a 4-digit label, or no grid value's
    3-digit form (then the control takes it, or refuses it with a notice).
    """
    grid = _LOG_GRIDS.get(key)
    if grid is None or not raw or any(raw[-1] == grid_label(v) for v in grid):
        return None
    try:
        number = float(raw[-1])
    except ValueError:
        return None
    return next((v for v in grid if float(f"{v:.3g}") == number), None)


def code(text: str, limit: int = 40) -> str:
    """User text shown as inline code: cut, and never markdown (no links, no HTML)."""
    text = text if len(text) <= limit else text[:limit] + "…"
    return "`" + text.replace("`", "'").replace("\n", " ") + "`"


def start() -> list[str]:
    """Read the URL once per session, before any widget: returns notices for unknown keys.

    Called first by `render_sidebar`. On the session's first run it records the
    URL's values (checked later by `bound`, once each widget has taken or refused
    its value) and removes the parameters no page binds. On every later run it
    forgets what is left: those values were never drawn, or came from the URL
    of an earlier run. Under the router it also decides whether this run is the
    first on its page after a switch (`page_run`).
    """
    ss = st.session_state
    page = ss.get(_PAGE_NOW)
    if page is not None:  # under the router (`page_run`)
        ss[_SWITCHED] = ss.get(_PAGE) not in (None, page)
        ss[_AT_SWITCH] = _address_bar() if ss[_SWITCHED] else {}
        ss[_PAGE] = page
    if _PENDING in ss:
        ss[_PENDING] = {}
        return []
    notices, pending = [], {}
    if not all(is_known(key) for key in st.query_params):
        declare_all()  # a link to a page this process has not run yet: its names, before pruning
    for key in list(st.query_params):
        values = st.query_params.get_all(key)
        if is_known(key):
            older = _from_older_link(key, values)
            if older is not None:  # set before its widget is drawn: wins over the URL's
                ss[key] = older
                values = [grid_label(older)]
            pending[key] = values
            continue
        notices.append(f"Ignored unknown URL setting {code(key)}.")
        del st.query_params[key]
    ss[_PENDING] = pending
    return notices


@contextlib.contextmanager
def page_run(page: str) -> Iterator[None]:
    """Around a page's full run (the router, app.py): marks the first run after a page switch.

    In that run `bound` presets every control it draws to the value the session
    holds for its key: the value it showed last (on the previous page), or a newer
    one the user set there whose run the switch cut short before the control was
    drawn again (Streamlit's cleanup at the switch carries that newer value under
    the key; `last` would bring back the older one). A change whose run had not even
    started when the switch arrived never reaches the session: Streamlit merges the
    two requests and keeps the switch's widget states, which hold none of the old
    page's controls; it is taken from the address bar the switch's request carried
    (`_unsent`; found under load by tests/e2e/test_many_users.py, checked by
    tests/e2e/test_change_then_switch.py). Streamlit 1.67 carries a bound control's value
    across a page switch only from its `_old_state`
    (`SessionState._remove_stale_widgets`); a value seeded from a shared link in
    the session's first run is still only in `_new_widget_state`, so a visitor
    who opens a link and at once clicks another page got the default data (no
    upstream report found; tests/e2e/test_link_then_switch.py). The switch is
    decided in `start` (the first call of every page's full run), against the
    last page that drew the sidebar, so a page that only redirects (app.py's
    `_to_home`) does not count. Fragment reruns do not pass through the router,
    so they never preset (a preset there would undo a gamma the user just moved);
    nor does a page run without the router (AppTest's `switch_page`).
    """
    ss = st.session_state
    ss[_PAGE_NOW] = page
    try:
        yield
    finally:
        ss[_SWITCHED] = False
        ss.pop(_PAGE_NOW, None)
        ss.pop(_AT_SWITCH, None)


def _address_bar() -> dict[str, list[str]]:
    """The query string of the request this run serves, every parameter of it.

    `st.query_params` holds only the parameters of the page being run (Streamlit
    filters out those bound on another page at a switch); the request itself (the
    run context's `query_string`) carries the browser's address bar as it was when
    the user clicked, where the browser had already written the user's last change.
    """
    ctx = get_script_run_ctx()
    values: dict[str, list[str]] = {}
    for key, value in parse_qsl(ctx.query_string if ctx is not None else ""):
        values.setdefault(key, []).append(value)
    return values


def _unsent(raw: list[str] | None, value: Any, args: tuple, kwargs: dict[str, Any]) -> Any:
    """What the address bar's `raw` for a control stands for, where it is not `value`.

    At a page switch the browser's address bar holds the user's last change to each
    bound control; the session holds `value`. They differ when the user changed the
    control and clicked another page before the server started that change's run
    (Streamlit then merges the two requests and keeps only the switch's widget
    states, which hold none of the old page's controls). Returns the control's value
    that `raw` names (an option, by its value or its label; a number within the
    control's range), or None where `raw` is absent, agrees with `value`, or names
    no value of the control (then the session's value stands).
    """
    format_func = kwargs.get("format_func")
    if not raw or _honoured(raw, value, format_func):
        return None
    options = kwargs.get("options", args[0] if args else None)
    if options is not None:
        options = list(options)

        def pick(text: str) -> Any:
            return next((o for o in options if text in _forms(o, format_func)), None)

        if isinstance(value, (list, tuple)):
            picked = [pick(text) for text in raw]
            return None if any(p is None for p in picked) else picked
        return pick(raw[-1])
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(raw[-1])
    except ValueError:
        return None
    if isinstance(value, int):
        if not number.is_integer():
            return None
        number = int(number)
    low, high = kwargs.get("min_value"), kwargs.get("max_value")
    if (low is not None and number < low) or (high is not None and number > high):
        return None
    return number


def from_link(key: str) -> bool:
    """Whether this run's URL (a shared link, on the session's first run) sets `key`.

    Code that presets a control's session state (a default that follows the data)
    must leave such a key alone: a value set in session state before the widget is
    drawn wins over the URL's.
    """
    return key in (st.session_state.get(_PENDING) or {})


def _forms(value: Any, format_func: Callable[[Any], str] | None) -> set[str]:
    forms = {str(value)}
    if format_func is not None:
        forms.add(str(format_func(value)))
    if isinstance(value, bool):
        forms.add(str(value).lower())
    return forms


def _same_one(raw: str, value: Any, format_func: Callable[[Any], str] | None) -> bool:
    if raw in _forms(value, format_func):
        return True
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return float(raw) == float(value)
        except ValueError:
            return False
    return False


def _honoured(raw: list[str], value: Any, format_func: Callable[[Any], str] | None) -> bool:
    """Whether the control shows what the URL asked for."""
    if isinstance(value, (list, tuple)):
        return len(raw) == len(value) and all(_same_one(r, v, format_func) for r, v in zip(raw, value))
    return bool(raw) and _same_one(raw[-1], value, format_func)


def _notice(key: str, raw: list[str], value: Any, format_func: Callable[[Any], str] | None) -> str:
    shown = raw[-1] if raw else ""
    if key == "dataset" and shown.startswith("Your upload"):
        return (f"URL value {key}={code(shown)}: the shared view used an uploaded file, which stays "
                "in its sender's session; showing the default data instead.")
    if isinstance(value, (list, tuple)):
        now = ", ".join(str(format_func(v) if format_func else v) for v in value)
    else:
        now = str(format_func(value) if format_func else value)
    return (f"URL value {key}={code(', '.join(raw))} was not accepted (not one of this control's "
            f"values, or outside its range); showing {code(now)} instead.")


def bound(widget: Callable[..., Any], label: str, *args: Any, key: str,
          notices: Any = None, **kwargs: Any) -> Any:
    """Draw `widget(label, *args, key=key, **kwargs)` bound to the URL and kept across pages.

    Args:
      widget: a widget function, e.g. `st.slider` or `column.radio`.
      key: the widget's key, which is also its URL parameter name: declared with
        `url_keys` by the module of the page's controls (ui/page_index.py's `controls`).
      notices: where to show a notice if the URL's value was refused; default: in
        the widget's own container (the main area for `st.*`).
      **kwargs: the widget's own arguments; the page's default goes in the
        widget's own default argument (`value=`, `index=`, `default=`), so a
        control at its default leaves the URL clean and a shared link
        reproduces it.

    Returns:
      The widget's value (`st.tabs`: its tab containers, as `st.tabs` returns them; the
      first argument is then the list of tab labels).
    """
    if not is_known(key):
        raise ValueError(f"bound(..., key={key!r}): no page declares the URL key {key!r}; declare it "
                         "with url_keys(...) in the module of the page's controls (the page's "
                         "`controls` in ui/page_index.py), and draw it with key=URL.<name>")
    ss = st.session_state
    last = ss.setdefault(_LAST, {})
    if ss.get(_SWITCHED) and key in last and not from_link(key):
        # The value the session holds for the key (see `page_run`): the one shown before
        # the switch, or a newer one whose run the switch cut short before this control
        # was drawn again (then `last` still has the older one); or a change the server
        # never saw, from the address bar.
        value = ss.get(key, last[key])
        options = (label, *args) if widget is st.tabs else args  # st.tabs: the labels come first
        unsent = _unsent(ss.get(_AT_SWITCH, {}).get(key), value, options, kwargs)
        ss[key] = value if unsent is None else unsent
    if widget is st.tabs:  # no persist_state; it returns its containers, its value is the open tab
        drawn = widget(label, *args, key=key, bind="query-params", **kwargs)
        value = ss.get(key)
    else:
        drawn = value = widget(label, *args, key=key, bind="query-params", persist_state="session",
                               **kwargs)
    last[key] = value
    pending = ss.get(_PENDING) or {}
    if key in pending:
        raw = pending.pop(key)
        format_func = kwargs.get("format_func")
        if not _honoured(raw, value, format_func):
            where = notices if notices is not None else getattr(widget, "__self__", st)
            where.warning(_notice(key, raw, value, format_func), icon=":material/link_off:")
    return drawn
