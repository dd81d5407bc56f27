"""vmap, further in a real browser: every tab opens without an exception and draws,
a control and the open tab go into the address bar, the address reopens them, and
the page fits a narrow window."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect


pytestmark = pytest.mark.e2e

PAGE = "further.py"
# tab label -> a text the tab shows once it has run (not in a table: tables are canvases)
TABS = {
    "Collectives": "axis_size: a batch with no mapped input",
    "Control flow": "batched loop trips",
    "Random keys": "one key: row 0's noise",
    "Jacobians": "needs fewer flops",
    "Memory": "so a batch of b rows holds",
    "Vectorize": "One program, three spellings",
    "Custom batching": "pure_callback: how vmap reaches host code",
    "Devices": "output sharding",
}


def _tab(app, label: str):
    return app.page.get_by_role("tab", name=label, exact=True)


def test_every_tab_runs_and_its_choice_is_in_the_address(app):
    app.open_page(PAGE)
    app.assert_healthy()
    for label, text in TABS.items():
        _tab(app, label).click()
        app.wait_for_text(text, timeout_ms=180_000)
        app.assert_healthy()
        assert _tab(app, label).get_attribute("aria-selected") == "true"
        if label != "Collectives":  # the default tab is left out of the address
            assert app.query().get("further_topic") == label


def test_a_control_goes_into_the_address_and_the_address_reopens_it(app):
    app.open_page(PAGE)
    app.radio("Collective", "pmean", where="stMain")
    expect(app.page).to_have_url(re.compile(r"[?&]further_collective=pmean(&|$)"))
    app.wait_idle()
    assert "largest |row sum|" in app.main_text()
    app.assert_healthy()

    app.open_page(PAGE, query="further_topic=Random+keys&further_noise_scale=1.0")
    app.assert_healthy()
    assert _tab(app, "Random keys").get_attribute("aria-selected") == "true"
    text = app.main_text()
    assert re.search(r"std, split-key noise\s*\n?\s*(0\.9\d*|1\.0\d*)", text), text[:2000]
    assert app.warnings() == []


@pytest.mark.parametrize("width", [1440, 800])
def test_the_page_fits_the_window(app, width, screenshot_dir):
    app.page.set_viewport_size({"width": width, "height": 1000})
    app.open_page(PAGE)
    app.assert_healthy()
    overflow = app.page.evaluate(
        "() => { const m = document.querySelector('[data-testid=\"stMain\"]');"
        " return m.scrollWidth - m.clientWidth; }")
    assert overflow <= 1, f"the main area scrolls sideways by {overflow}px at {width}px"
    app.page.screenshot(path=str(screenshot_dir / f"further_{width}.png"))
