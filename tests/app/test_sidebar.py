"""The shared sidebar: defaults, the URL, page switches, uploads good and bad."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from core.data import load_dataset
from core.kernels.functions import median_heuristic_gamma
from tests.app.conftest import ROOT, TIMEOUT_S, no_exception, open_page, url_value, widget
from tests.test_architecture import EXPECTED_PAGES
from ui.state.settings import snap_gamma

PAGE = "gram.py"
DATA = ROOT / "tests" / "data"


def canon(at, name):
    """The sidebar's value of `name` (its widget key and URL parameter)."""
    return at.session_state[name]


def test_defaults_follow_the_median_heuristic():
    at = open_page(PAGE)
    X, _ = load_dataset("blobs", n=400, seed=0, noise=0.1, dtype="float32")
    assert canon(at, "gamma") == snap_gamma(median_heuristic_gamma(X))
    assert widget(at, "gamma").value == canon(at, "gamma")
    assert not at.warning and not at.error
    # Nothing but defaults: the URL stays clean.
    assert dict(at.query_params) == {}


def test_a_shared_url_reproduces_the_view():
    query = {"dataset": "moons", "n": "200", "noise": "0.3", "seed": "7", "dtype": "float64",
             "gamma": "2", "method": "jit_method1"}
    at = open_page(PAGE, query)
    assert not at.warning, [w.value for w in at.warning]
    assert canon(at, "dataset") == "moons" and canon(at, "n") == 200
    assert canon(at, "noise") == 0.3 and canon(at, "seed") == 7
    assert canon(at, "dtype") == "float64" and canon(at, "method") == "jit_method1"
    assert canon(at, "gamma") == snap_gamma(2.0)
    assert "N = 200" in at.markdown[0].value and "float64" in at.markdown[0].value
    # The URL still says the same after the run (it is what a user would copy).
    assert at.query_params["dataset"] in (["Two moons"], "Two moons")


HOSTILE = {
    "gamma": "-1",
    "n": str(10**12),
    "method": "<script>alert(1)</script>",
    "dataset": "no_such_data",
    "seed": "x" * 5000,
    "dtype": "float16",
    "evil": "1",
}


def test_hostile_url_values_fall_back_to_defaults_with_a_notice():
    at = open_page(PAGE, HOSTILE)
    assert canon(at, "n") == 400 and canon(at, "dataset") == "blobs"
    assert canon(at, "method") == "auto" and canon(at, "dtype") == "float32" and canon(at, "seed") == 0
    notices = " ".join(w.value for w in at.warning)
    for key in ("gamma", "n", "method", "dataset", "seed", "dtype", "evil"):
        assert key in notices, key
    assert "x" * 100 not in notices  # long values are cut, not echoed
    assert len(at.warning) == len(HOSTILE)
    # A huge gamma is refused too, and the page still draws.
    at2 = open_page(PAGE, {"gamma": "1e300"})
    assert "gamma" in at2.warning[0].value
    assert canon(at2, "gamma") == snap_gamma(median_heuristic_gamma(
        load_dataset("blobs", n=400, seed=0, noise=0.1)[0]))


def test_notices_clear_once_the_user_changes_something():
    at = open_page(PAGE, {"n": "-5"})
    assert at.warning
    widget(at, "n").set_value(200).run()
    no_exception(at)
    assert not at.warning and canon(at, "n") == 200
    # The browser writes a user's change into the address bar (AppTest has none):
    # tests/e2e/test_share_links.py::test_a_changed_control_is_in_the_url_and_clears_the_notice
    # checks it there.


def test_state_survives_switching_pages():
    at = open_page(PAGE)
    widget(at, "dataset").set_value("circles").run()
    widget(at, "n").set_value(150).run()
    widget(at, "gamma").set_value(snap_gamma(3.0)).run()
    for page in EXPECTED_PAGES:
        at.switch_page(f"app_pages/{page}").run()
        no_exception(at)
        assert widget(at, "dataset").value == "circles", page
        assert widget(at, "n").value == 150, page
        assert canon(at, "gamma") == snap_gamma(3.0), page


def test_moving_gamma_stops_following_the_heuristic_and_reset_returns():
    at = open_page(PAGE)
    following = canon(at, "gamma")
    widget(at, "gamma").set_value(snap_gamma(following * 10)).run()
    widget(at, "dataset").set_value("moons").run()
    assert canon(at, "gamma") == snap_gamma(following * 10), "a chosen gamma must survive a data change"
    widget(at, "w_reset_gamma").click().run()
    X, _ = load_dataset("moons", n=400, seed=0, noise=0.1)
    assert canon(at, "gamma") == snap_gamma(median_heuristic_gamma(X))


def test_a_valid_upload_becomes_the_data():
    at = open_page(PAGE)
    rng = np.random.default_rng(3)
    rows = rng.normal(size=(60, 3))
    text = "a,b,c\n" + "\n".join(",".join(f"{v:.6f}" for v in r) for r in rows)
    widget(at, "w_upload").upload("mine.csv", text.encode(), "text/csv")
    at.run()
    no_exception(at)
    assert canon(at, "dataset") == "upload"
    assert "mine.csv" in at.markdown[0].value and "N = 60" in at.markdown[0].value
    assert "D = 3" in at.markdown[0].value
    assert not at.error


def test_every_bad_upload_is_refused_and_the_previous_data_kept():
    expected = json.loads((DATA / "bad" / "EXPECTED.json").read_text())
    at = open_page(PAGE)
    widget(at, "dataset").set_value("wine").run()
    before = at.markdown[0].value
    failures = []
    for name, spec in expected.items():
        if spec["kwargs"]:
            continue  # needs a smaller cap than the app's; covered in tests/core/data/test_data.py
        uploader = widget(at, "w_upload")
        uploader.set_value((name, (DATA / "bad" / name).read_bytes(), "application/octet-stream"))
        at.run()
        errors = " ".join(e.value for e in at.error)
        if at.exception or spec["message"] not in errors or name not in errors:
            failures.append((name, spec["message"], errors[:200], [e.value for e in at.exception]))
        if canon(at, "dataset") != "wine" or at.markdown[0].value != before:
            failures.append((name, "previous data lost", at.markdown[0].value))
    assert not failures, failures
    # The app keeps working: gamma still redraws.
    widget(at, "gamma").set_value(snap_gamma(0.5)).run()
    no_exception(at)


@pytest.mark.parametrize("name", ["text_column.csv", "three_d.npy", "html_page.csv"])
def test_a_refused_upload_says_so_once(name):
    """One message for one refused file (it was shown under the uploader and again above
    the page), with the file's name and the way the app goes on."""
    at = open_page(PAGE)
    widget(at, "w_upload").set_value((name, (DATA / "bad" / name).read_bytes(),
                                      "application/octet-stream"))
    at.run()
    no_exception(at)
    shown = [e.value for e in at.error]
    assert len([m for m in shown if "was not loaded" in m]) == 1, shown
    (message,) = shown
    assert name in message and "The previous data is still in use." in message
    at.run()  # a rerun (any click) does not add a second one
    assert len(at.error) == 1


@pytest.mark.parametrize("name", ["bom_semicolon.csv", "decimal_comma.csv"])
def test_european_csv_exports_load(name):
    expected = json.loads((DATA / "good" / "EXPECTED.json").read_text())[name]
    at = open_page(PAGE)
    widget(at, "w_upload").set_value((name, (DATA / "good" / name).read_bytes(), "text/csv"))
    at.run()
    no_exception(at)
    assert canon(at, "dataset") == "upload"
    n, d = expected["shape"]
    assert f"N = {n}" in at.markdown[0].value and f"D = {d}" in at.markdown[0].value


def test_an_upload_with_constant_columns_loads_with_a_warning():
    at = open_page(PAGE)
    name = "constant_column.csv"
    widget(at, "w_upload").set_value((name, (DATA / "good" / name).read_bytes(), "text/csv"))
    at.run()
    no_exception(at)
    assert canon(at, "dataset") == "upload"
    assert any("same value in every row" in w.value for w in at.sidebar.warning)


def test_url_values_are_shown_as_code_never_as_markdown():
    at = open_page(PAGE, {"method": "[click](javascript:alert(1))", "x`y": "1"})
    notices = [w.value for w in at.warning]
    assert any("`[click](javascript:alert(1))`" in n for n in notices)
    assert any("`x'y`" in n for n in notices)


# --- a page shows only the sidebar controls that change it -----------------------------

def _sidebar_widgets(at) -> dict[str, bool]:
    """{key: shown} for every keyed widget in the sidebar; shown is False for one drawn
    in the hidden container (ui.state.sidebar.UNUSED_KEY: still bound, not on screen)."""
    from streamlit.testing.v1.element_tree import Block

    from ui.state.sidebar import UNUSED_KEY

    found: dict[str, bool] = {}

    def walk(node, hidden: bool) -> None:
        if isinstance(node, Block):
            hidden = hidden or UNUSED_KEY in (getattr(node.proto, "id", "") or "")
            for child in node.children.values():
                walk(child, hidden)
        elif getattr(node, "key", None):
            found[node.key] = not hidden

    walk(at.sidebar, False)
    return found


DATA_KEYS = {"dataset", "n", "noise", "seed", "w_upload"}
KERNEL_KEYS = {"kernel", "gamma", "w_reset_gamma", "method"}


@pytest.mark.parametrize("page,shown", [
    ("precision.py", {"seed"}),  # its own data, precision and methods: only the seed
    ("kernels.py", DATA_KEYS | {"dtype"}),  # its own kernel: the data and the precision
    ("overview.py", DATA_KEYS | {"dtype"}),  # no kernel, no gamma
    ("anatomy.py", DATA_KEYS | {"dtype"}),
    ("fit.py", set()),  # its own data with a target, its own kernel and precision
    ("scale.py", {"dtype"}),  # its own synthetic data
    ("gradients.py", DATA_KEYS | {"dtype"} | KERNEL_KEYS),
])
def test_a_page_shows_only_the_sidebar_controls_that_change_it(page, shown):
    at = open_page(page)
    drawn = _sidebar_widgets(at)
    # Every control is still drawn (bound to the URL, kept for the other pages) ...
    assert {"dataset", "n", "seed", "dtype", "kernel", "gamma", "method"} <= set(drawn), drawn
    # ... and only those the page reads are on screen (Blobs has no noise control).
    assert {k for k, on in drawn.items() if on} == shown - {"noise"}, drawn


def test_values_set_on_the_gram_page_survive_a_lab_that_hides_them():
    at = open_page("gram.py")
    for key, value in [("dataset", "moons"), ("n", 150), ("noise", 0.3), ("dtype", "float64"),
                       ("kernel", "laplacian"), ("method", "jit_method1")]:
        widget(at, key).set_value(value).run()
        no_exception(at)
    gamma = snap_gamma(3.0)
    widget(at, "gamma").set_value(gamma).run()
    chosen = {k: at.session_state[k] for k in ("dataset", "n", "noise", "dtype", "kernel",
                                                 "method", "gamma")}
    # The address bar's form of each (a selectbox writes its label).
    url = {"dataset": "Two moons", "n": "150", "noise": "0.3", "dtype": "float64",
           "kernel": "Laplacian", "method": url_value("method", "jit_method1")}
    for page in ("precision.py", "kernels.py", "gram.py"):
        # AppTest has no address bar: the first run after its switch_page reads the bound
        # widgets' defaults (a browser sends the URL's values with the switch; the e2e
        # tests/e2e/test_layout.py checks that), the next run their session values.
        at.switch_page(f"app_pages/{page}").run()
        at.run()
        no_exception(at)
        assert {k: widget(at, k).value for k in chosen} == chosen, page
        shown = dict(at.query_params)
        assert {k: shown.get(k) for k in url} == url, page  # a link copied on the lab keeps them
    assert at.markdown[0].value.startswith("**Two moons**: N = 150") and "float64" in at.markdown[0].value
    assert "Kernel: Laplacian" in at.markdown[0].value


def _one_run_of_state():
    """A run that draws the sidebar, loads the data as a page does, and records what it got."""
    import streamlit as st

    from ui.state.cache import load_data
    from ui.state.sidebar import render_sidebar

    settings = render_sidebar()
    first, second = load_data(settings), load_data(settings)
    st.session_state["_seen"] = dict(same=first is second, writable=bool(first.X.flags.writeable),
                                     gamma=settings.gamma, data=first)


def test_the_data_is_loaded_once_per_choice_and_shared_read_only():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_one_run_of_state, default_timeout=TIMEOUT_S).run()
    assert not at.exception, [e.value for e in at.exception]
    seen = at.session_state["_seen"]
    assert seen["same"] and not seen["writable"]  # one Data for the sidebar and the page
    before = seen["data"]
    at.run()  # a rerun with the same choice finds the same data, not a reloaded copy
    assert at.session_state["_seen"]["data"] is before
    at.slider(key="n").set_value(200).run()  # another choice: loaded anew
    after = at.session_state["_seen"]["data"]
    assert after is not before and after.X.shape[0] == 200
    assert at.session_state["_seen"]["gamma"] == at.select_slider(key="gamma").value


def test_set_gamma_is_the_one_setter_the_slider_url_and_caption_follow():
    from streamlit.testing.v1 import AppTest

    def run():
        import streamlit as st

        from ui.state.sidebar import render_sidebar, set_gamma

        if st.session_state.get("_set"):
            set_gamma(st.session_state.pop("_set"))
        st.session_state["_gamma"] = render_sidebar().gamma

    at = AppTest.from_function(run, default_timeout=TIMEOUT_S).run()
    default = at.session_state["_gamma"]
    at.session_state["_set"] = 0.2  # not on the grid: the nearest value, 0.1995, is what shows
    at.run()
    assert at.session_state["_gamma"] == at.select_slider(key="gamma").value == 0.1995 != default
    assert at.query_params["gamma"] == "0.1995"  # the URL holds what the slider shows
    assert any("set by you" in c.value for c in at.caption)
