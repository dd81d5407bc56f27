"""AppTest fixtures: run a page of the real app, headless, the way Streamlit runs it.

`AppTest.switch_page` runs the page file alone (without app.py), which is also
how the shared sidebar must work; `open_page` therefore runs app.py first (as a
user's first visit does) and then the page.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
# Generous: the first run of a page compiles its JAX functions on a busy 2-core machine.
TIMEOUT_S = 180


def url_value(key: str, value: str | list[str]) -> str | list[str]:
    """The URL form of a sidebar choice: selectboxes put their label in the URL.

    Tests name data, kernels and methods by id; a bound selectbox's URL value is
    the label it shows (Streamlit's binding), so ids are translated here. Any
    other value (numbers, unknown names) passes unchanged.
    """
    from core.data import DATASETS
    from core.dense.methods import METHODS
    from core.kernels.functions import KERNELS

    if isinstance(value, list):  # a multiselect: one parameter per choice
        return [url_value(key, v) for v in value]
    table = {"dataset": DATASETS, "kernel": KERNELS, "method": METHODS}.get(key, {})
    return table[value].label if value in table else value


def open_page(page: str, query: dict[str, str | list[str]] | None = None) -> AppTest:
    """An AppTest that opens `app_pages/<page>` through app.py, as a shared link does.

    The page is chosen before the first run, so that first run (app.py routing to
    the page) is the one that reads the URL, as when a user opens /gram?... .
    """
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT_S)
    for key, value in (query or {}).items():
        at.query_params[key] = url_value(key, value)
    at.switch_page(f"app_pages/{page}")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def widget(at: AppTest, key: str):
    """The widget with session key `key` (its URL parameter name when it is bound)."""
    for kind in ("selectbox", "select_slider", "slider", "radio", "number_input", "toggle",
                 "checkbox", "button", "multiselect", "text_input", "text_area", "file_uploader",
                 "segmented_control", "pills"):
        for w in getattr(at, kind, []):
            if getattr(w, "key", None) == key:
                return w
    raise KeyError(f"no widget with key {key!r}")


def _wire_number(v: float) -> str:
    """A number as the browser writes it into the URL (JavaScript's String(v))."""
    return str(int(v)) if math.isfinite(v) and v == int(v) else repr(float(v))


def _option(options, index) -> str | None:
    return options[int(index)] if 0 <= int(index) < len(options) else None


def address_bar(at: AppTest) -> dict[str, list[str]]:
    """The query string a browser shows now: each bound control away from its widget default.

    Streamlit's frontend writes a bound widget's wire value (a selectbox's or radio's
    label, a multiselect's labels, a slider's numbers, a toggle's true/false) into the
    URL, and leaves it out while it equals the widget's own default (the proto's
    `default`). AppTest has no address bar: this reads the same from the widgets drawn
    in the last run. A number is written in full, as the browser's String(v) does (not
    rounded to 6 digits: a slider's value that needed more would reopen another value).
    """
    url: dict[str, list[str]] = {}
    kinds = ("select_slider", "slider", "selectbox", "radio", "multiselect", "number_input",
             "toggle", "checkbox", "text_area", "text_input")
    for kind in kinds:
        for w in getattr(at, kind, []):
            key = getattr(w.proto, "query_param_key", "")
            if not key:
                continue
            state, proto = w._widget_state, w.proto
            if kind in ("select_slider", "multiselect"):
                value = list(state.string_array_value.data)
                default = [_option(list(proto.options), i) for i in proto.default]
            elif kind == "slider":
                value = [_wire_number(v) for v in state.double_array_value.data]
                default = [_wire_number(v) for v in proto.default]
            elif kind in ("selectbox", "radio"):
                value = [state.string_value]
                default = ([_option(list(proto.options), proto.default)]
                           if proto.HasField("default") else [])  # index=None: no default
            elif kind == "number_input":
                field = state.WhichOneof("value")
                value = [_wire_number(getattr(state, field))]
                default = [_wire_number(proto.default)]
            elif kind in ("toggle", "checkbox"):
                value, default = [str(state.bool_value).lower()], [str(proto.default).lower()]
            else:  # text
                value, default = [state.string_value], [proto.default]
            if value != default:
                url[key] = value
    return url


def no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


@pytest.fixture
def page():
    """`page(name, query=None)` opens app_pages/<name> as a user would."""
    return open_page


def plotly_figures(at: AppTest) -> dict[str, dict]:
    """The Plotly figures on screen by widget key, with typed arrays decoded to NumPy.

    Plotly sends NumPy arrays as {"dtype", "bdata" (base64), "shape"}; decoding them
    gives exactly the numbers the browser draws.
    """
    import json

    from tests.app.figures import decode

    figures = {}
    for i, chart in enumerate(at.get("plotly_chart")):
        key = chart.proto.id.rsplit("-", 1)[-1] if chart.proto.id else str(i)
        figures[_user_key(chart) or key] = decode(json.loads(chart.proto.spec))
    return figures


def _user_key(chart) -> str | None:
    # Element ids embed the user key: "$$ID-<hash>-<user key>".
    ident = chart.proto.id or ""
    for marker in ("w_",):
        if marker in ident:
            return ident[ident.index(marker):]
    return None


def metric(at: AppTest, label_start: str) -> str:
    """The value of the first st.metric whose label starts with `label_start`."""
    return next(m.value for m in at.metric if m.label.startswith(label_start))
