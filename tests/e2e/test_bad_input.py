"""Bad input through the real browser: broken uploads and a hostile URL.

A bad file shows its reason and keeps the previous data; a hostile query
string shows notices, runs no script, and leaves the defaults in place.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.e2e.app_page import expect
from tests.e2e.server import ROOT

pytestmark = pytest.mark.e2e

PAGE = "gram.py"
BAD = ROOT / "tests" / "data" / "bad"
EXPECTED = json.loads((BAD / "EXPECTED.json").read_text())
BAD_UPLOADS = ["text_column.csv", "pickled_object.npy", "three_d.npy", "binary_garbage.csv",
               "empty.csv", "script_tag.csv", "html_page.csv"]


def upload(app, path) -> None:
    """Put `path` into the sidebar's file uploader, as a user's file dialog does."""
    expander = app.sidebar.get_by_test_id("stExpander").filter(has_text="Upload CSV or .npy")
    if expander.locator("details").first.get_attribute("open") is None:
        expander.get_by_text("Upload CSV or .npy").click()
    expander.locator('input[type="file"]').set_input_files(str(path))


def wait_for_error(app, file_name: str) -> str:
    """The error shown in the main area for `file_name`, once the run is over."""
    error = app.main.get_by_test_id("stAlertContentError").filter(has_text=f"{file_name} was not loaded")
    expect(error).to_have_count(1)
    app.wait_idle()
    return error.inner_text()


def test_bad_uploads_explain_themselves_and_keep_the_data(app, tmp_path):
    app.open_page(PAGE, "n=100")
    summary, heatmap = app.first_markdown(), app.gram_heatmap()
    for name in BAD_UPLOADS:
        upload(app, BAD / name)
        message = wait_for_error(app, name)
        assert EXPECTED[name]["message"] in message, message  # shown as text, never as markup
        assert "The previous data is still in use." in message
        assert app.first_markdown() == summary, f"{name} changed the data"
        assert app.selected("Dataset") == "Blobs"
        app.assert_healthy()
    assert app.gram_heatmap()["fingerprint"] == heatmap["fingerprint"]

    # The app keeps working: gamma moves the heatmap.
    shown = app.press_gamma("ArrowRight")
    assert app.heatmap_title() == f"K, gamma = {shown}"
    assert app.gram_heatmap()["fingerprint"] != heatmap["fingerprint"]

    # A good file replaces the data; a bad one after it keeps the good one.
    good = tmp_path / "my_points.csv"
    np.savetxt(good, np.random.default_rng(1).normal(size=(30, 3)), delimiter=",",
               header="a,b,c", comments="")
    upload(app, good)
    app.wait_for_summary("my_points.csv: N = 30 points in D = 3")
    assert app.selected("Dataset") == "Your upload: my_points.csv"
    assert app.errors_shown() == []  # the old error is gone
    uploaded = app.first_markdown()
    upload(app, BAD / "three_d.npy")
    wait_for_error(app, "three_d.npy")
    assert app.first_markdown() == uploaded
    assert app.gram_heatmap()["points"] == 30
    app.assert_healthy()


def test_a_hostile_url_shows_notices_runs_no_script_and_uses_defaults(app):
    query = ("gamma=-1&n=1000000000000&method=%3Cscript%3Ealert(1)%3C/script%3E"
             "&dataset=%3Cimg%20src%3Dx%20onerror%3Dalert(2)%3E&dtype=float16&x%22onmouseover=1")
    app.open_page(PAGE, query)
    notices = app.warnings()
    assert len(notices) == 6, notices
    for key in ("gamma", "n", "method", "dataset", "dtype"):
        assert any(f"URL value {key}=" in n for n in notices), (key, notices)
    assert any("Ignored unknown URL setting" in n for n in notices), notices
    # Defaults, and a URL that says so.
    assert app.first_markdown().startswith("Blobs: N = 400 points in D = 2 dimensions, float32")
    assert "Batching method: auto (fastest accurate)" in app.main_text()
    assert "gamma follows the median heuristic" in app.main_text()
    assert app.query() == {}
    # Nothing from the query became markup, and no script ran.
    # No <img> whose onerror could fire later; mouse.move returns once the hover is
    # dispatched, so an onmouseover would have opened its alert (assert_healthy: none).
    assert app.page.locator('img[src="x"]').count() == 0
    app.page.mouse.move(700, 500)
    assert app.page.evaluate("() => Array.from(document.scripts).some(s => s.text.includes('alert('))") is False
    app.assert_healthy()  # includes: no dialog opened
    # The page still works.
    before = app.heatmap_title()
    app.press_gamma("ArrowRight")
    assert app.heatmap_title() != before
    app.assert_healthy()
