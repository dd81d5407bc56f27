"""Every page of the app in a real browser: the menu lists each at its address; each
loads cleanly, draws its charts, leaves a full-page screenshot (<url path>.png, in a
temporary folder or, under VMAP_REFRESH_SCREENSHOTS=1, docs/screenshots for the
README), and takes the shared sidebar's controls: gamma by keyboard, another
dataset, the other precision.

Every page is also seen at 1440 and 800 px, light and dark (`tests.e2e.themes`): no
exception box, nothing scrolling sideways, the theme's background and text, and a
screenshot of the window, <url path>_<width>_<theme>.png, in the same folder. Both
use the tab the page was opened in: dark is the system's colour scheme switched
(`page.emulate_media`, which Streamlit's default "System" theme follows live), and
the window is resized between the two widths. A dark system's first visit is checked
once, in a browser context made dark.
"""

from __future__ import annotations

import pytest

from tests.e2e.app_page import APP_PAGES, VIEWPORT, AppPage, expect, page_url_path
from tests.e2e.themes import shoot_widths

pytestmark = pytest.mark.e2e

# Pages that draw their charts only after a click on the button named here (timing
# takes seconds): test_batching_race.py and test_scale.py click, check the charts and
# save the screenshot.
CHARTS_AFTER_A_CLICK = {"race": "Run the race", "scale": "Compute"}
# Pages whose main figure is the live heatmap's canvas rather than a Plotly chart.
LIVE_CANVAS = {"workbench"}
# Pages whose charts do not use the sidebar's data (they draw their own).
OWN_DATA = {"precision", "scale"}
# The shared sidebar controls each page shows (the others are drawn hidden:
# ui.state.sidebar.render_sidebar's `uses`); a page not listed shows all three.
SIDEBAR_SHOWS = {
    "precision": set(),  # only the Seed
    "kernels": {"data", "precision"},  # its own kernel and gamma
    "fit": set(),  # its own data and its own precision
    "scale": {"precision"},  # its own data
    "overview": {"data", "precision"}, "anatomy": {"data", "precision"},  # no gamma
}
ALL_SHOWN = {"gamma", "data", "precision"}


def live_canvas(app):
    return app.page.locator("canvas.heatmap")


def test_the_menu_lists_every_page_at_its_address(app):
    app.open()
    assert app.nav_addresses() == [page_url_path(f) for f in APP_PAGES]
    app.assert_healthy()


@pytest.mark.parametrize("page_file, url", list(APP_PAGES.items()), ids=list(APP_PAGES.values()))
def test_page_loads_draws_its_charts_and_takes_the_sidebar_controls(app, screenshot_dir, page_file, url):
    app.open_page(page_file)
    app.assert_healthy()
    expect(app.main.get_by_role("heading", level=1).first).to_be_visible()  # the page has a title
    plots = app.plots()
    if url in CHARTS_AFTER_A_CLICK:
        expect(app.button(CHARTS_AFTER_A_CLICK[url])).to_be_enabled()
    elif url in LIVE_CANVAS:
        expect(live_canvas(app)).to_have_attribute("data-shown", "exact", timeout=60_000)
        app.screenshot(screenshot_dir / f"{url}.png")
    else:
        assert plots, "no chart on the page"
        empty = [p["title"] for p in plots if p["points"] == 0]
        assert not empty, f"charts drawn without data: {empty}"
        app.screenshot(screenshot_dir / f"{url}.png")
        assert (screenshot_dir / f"{url}.png").stat().st_size > 20_000
    shoot_widths(app, screenshot_dir, url, "light")
    # The same page for a visitor whose system is dark (Streamlit's default theme follows
    # it, live): the same checks and screenshots, then light again.
    app.page.emulate_media(color_scheme="dark")
    shoot_widths(app, screenshot_dir, url, "dark")
    if url not in {*CHARTS_AFTER_A_CLICK, *LIVE_CANVAS}:
        assert [p["points"] > 0 for p in app.plots()] == [True] * len(plots), \
            "charts lost or drawn without data in dark"
    app.page.emulate_media(color_scheme="light")
    app.assert_healthy()

    shows = SIDEBAR_SHOWS.get(url, ALL_SHOWN)
    for label in ("Dataset", "Precision"):  # a control the page does not use is not on screen
        if {"Dataset": "data", "Precision": "precision"}[label] not in shows:
            expect(app.sidebar.get_by_label(label, exact=True).first).to_be_hidden()

    # gamma, wherever the page draws its slider, moves with the arrow keys.
    if "gamma" in shows:
        expect(app.page.get_by_role("slider", name="gamma (log scale)").first).to_be_attached()
        before = app.gamma_shown()
        after = app.press_gamma("ArrowRight")
        assert after != before
        assert float(app.query()["gamma"]) == pytest.approx(float(after), rel=0.02)
        app.assert_healthy()
        assert len(app.plots()) == len(plots), "a chart was lost after moving gamma"
    else:
        expect(app.page.get_by_role("slider", name="gamma (log scale)")).to_have_count(0)

    # Another dataset, then the other precision, where the page shows them: it redraws.
    if not shows & {"data", "precision"}:
        return
    drawn = live_canvas(app).evaluate("c => c.toDataURL()") if url in LIVE_CANVAS else None
    if "data" in shows:
        app.select("Dataset", "Two moons")
        app.wait_for_query("dataset", "Two moons")  # a bound selectbox writes its label
    if "precision" in shows:
        app.radio("Precision", "float64")
        app.wait_for_query("dtype", "float64")
    app.assert_healthy()
    if "data" in shows:
        assert app.selected("Dataset") == "Two moons"
    if url in LIVE_CANVAS:
        expect(live_canvas(app)).to_have_attribute("data-shown", "exact", timeout=60_000)
        assert live_canvas(app).evaluate("c => c.toDataURL()") != drawn, "the heatmap did not change"
    elif url not in CHARTS_AFTER_A_CLICK:
        redrawn = app.plots()
        assert len(redrawn) == len(plots) and all(p["points"] for p in redrawn)
        if url not in OWN_DATA:
            assert {p["fingerprint"] for p in redrawn} != {p["fingerprint"] for p in plots}, \
                "no chart changed with the data"


def test_a_dark_systems_first_visit_is_dark(browser, server, tmp_path):
    """A visitor whose system is set to dark gets the dark theme from the first page on
    (the test above switches a page already open)."""
    ctx = browser.new_context(viewport=VIEWPORT, color_scheme="dark", accept_downloads=False)
    try:
        app = AppPage(ctx.new_page(), server.url).open()
        app.assert_healthy()
        expect(app.main.get_by_role("heading", level=1).first).to_be_visible()
        shoot_widths(app, tmp_path, "first_visit", "dark")  # not one of the README's pictures
    finally:
        ctx.close()
