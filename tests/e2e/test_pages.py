"""Every page of the app in a real browser: the menu lists each at its address; each
loads cleanly, draws its charts, leaves a full-page screenshot (<url path>.png, in a
temporary folder or, under VMAP_REFRESH_SCREENSHOTS=1, docs/screenshots for the
README), and takes the shared sidebar's controls: gamma by keyboard, another
dataset, the other precision.

Every page is also seen at 1440 and 800 px, light and dark (`tests.e2e.themes`): no
exception box, nothing scrolling sideways, the theme's background and text, and a
screenshot of the window, <url path>_<width>_<theme>.png, in the same folder. Light
reuses the tab the page was opened in; dark has a browser context of its own
(`color_scheme="dark"`, which Streamlit's default "System" theme follows); both only
resize the window between the two widths.
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


@pytest.fixture(scope="module")
def dark_tabs(browser, server):
    """One dark browser context for the dark half of the screenshots (a visitor whose
    system is set to dark); its tabs share the app's JavaScript as `tabs` does."""
    ctx = browser.new_context(viewport=VIEWPORT, color_scheme="dark", accept_downloads=False)
    yield ctx
    ctx.close()


@pytest.fixture
def dark_app(dark_tabs, server):
    page = dark_tabs.new_page()
    yield AppPage(page, server.url)
    page.close()


@pytest.mark.parametrize("page_file, url", list(APP_PAGES.items()), ids=list(APP_PAGES.values()))
def test_page_is_dark_at_1440_and_800_px_for_a_dark_system(dark_app, screenshot_dir, page_file, url):
    dark_app.open_page(page_file)
    dark_app.assert_healthy()
    expect(dark_app.main.get_by_role("heading", level=1).first).to_be_visible()
    if url in CHARTS_AFTER_A_CLICK:
        expect(dark_app.button(CHARTS_AFTER_A_CLICK[url])).to_be_enabled()
    elif url in LIVE_CANVAS:
        expect(live_canvas(dark_app)).to_have_attribute("data-shown", "exact", timeout=60_000)
    else:
        plots = dark_app.plots()
        assert plots and all(p["points"] for p in plots), "charts missing or drawn without data in dark"
    shoot_widths(dark_app, screenshot_dir, url, "dark")
    dark_app.assert_healthy()
