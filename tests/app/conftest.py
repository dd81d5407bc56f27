"""AppTest fixtures: run a page of the real app, headless, the way Streamlit runs it.

`AppTest.switch_page` runs the page file alone (without app.py), which is also
how the shared sidebar must work; `open_page` therefore runs app.py first (as a
user's first visit does) and then the page.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
# Generous: the first run of a page compiles its JAX functions on a busy 2-core machine.
TIMEOUT_S = 180


def open_page(page: str, query: dict[str, str] | None = None) -> AppTest:
    """An AppTest that has run app.py and then `pages/<page>`, with no exception."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT_S)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    at.switch_page(f"pages/{page}")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def widget(at: AppTest, key: str):
    """The widget with session key `key` (our widgets are all keyed `w_...`)."""
    for kind in ("selectbox", "select_slider", "slider", "radio", "number_input", "toggle",
                 "checkbox", "button", "multiselect", "text_input", "file_uploader",
                 "segmented_control", "pills"):
        for w in getattr(at, kind, []):
            if getattr(w, "key", None) == key:
                return w
    raise KeyError(f"no widget with key {key!r}")


def no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


@pytest.fixture
def page():
    """`page(name, query=None)` opens pages/<name> as a user would."""
    return open_page
