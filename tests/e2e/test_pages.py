"""Every page of the app in a real browser: it loads cleanly, draws its charts,
leaves a full-page screenshot (docs/screenshots/<url path>.png) for the README,
and takes the shared sidebar's controls: gamma by keyboard, another dataset,
the other precision."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import EXISTING_PAGES, SCREENSHOTS

pytestmark = pytest.mark.e2e

# Pages that draw their charts only after a click (timing takes seconds): the
# module named here clicks, checks the charts and saves the screenshot.
CHARTS_AFTER_A_CLICK = {"race": "test_batching_race.py", "scale": "test_scale.py"}
# Pages whose charts do not use the sidebar's data (they draw their own).
OWN_DATA = {"precision", "scale"}


@pytest.mark.parametrize("page_file, url", EXISTING_PAGES, ids=[url for _, url in EXISTING_PAGES])
def test_page_loads_draws_its_charts_and_takes_the_sidebar_controls(app, page_file, url):
    app.open_page(page_file)
    app.assert_healthy()
    assert app.page.locator('[data-testid="stMain"] h1').count() >= 1, "the page has no title"
    plots = app.plots()
    if url in CHARTS_AFTER_A_CLICK:
        assert app.page.locator('[data-testid="stMain"] [data-testid="stButton"] button').count() >= 1
    else:
        assert plots, "no chart on the page"
        empty = [p["title"] for p in plots if p["points"] == 0]
        assert not empty, f"charts drawn without data: {empty}"
        app.screenshot(SCREENSHOTS / f"{url}.png")
        assert (SCREENSHOTS / f"{url}.png").stat().st_size > 20_000

    # gamma, wherever the page draws its slider, moves with the arrow keys.
    assert app.page.locator('input[type="range"][aria-label="gamma (log scale)"]').count(), \
        f"page {url!r} shows no gamma slider"
    before = app.gamma_shown()
    after = app.press_gamma("ArrowRight")
    assert after != before
    assert float(app.query()["gamma"]) == pytest.approx(float(after), rel=0.02)
    app.assert_healthy()
    assert len(app.plots()) == len(plots), "a chart was lost after moving gamma"

    # Another dataset, then the other precision: the page redraws for them.
    app.select("Dataset", "Two moons")
    app.wait_for("() => new URLSearchParams(location.search).get('dataset') === 'moons'")
    app.radio("Precision", "float64")
    app.wait_for("() => new URLSearchParams(location.search).get('dtype') === 'float64'")
    app.assert_healthy()
    assert app.selected("Dataset") == "Two moons"
    if url not in CHARTS_AFTER_A_CLICK:
        redrawn = app.plots()
        assert len(redrawn) == len(plots) and all(p["points"] for p in redrawn)
        if url not in OWN_DATA:
            assert {p["fingerprint"] for p in redrawn} != {p["fingerprint"] for p in plots}, \
                "no chart changed with the data"
