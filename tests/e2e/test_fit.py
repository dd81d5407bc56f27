"""The Fit page in a real browser: a click on the surface chooses the point, the climb
draws its path, and the URL holds the page's controls."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from ui.charts.fit import SURFACE_TITLE

pytestmark = pytest.mark.e2e

PAGE = "fit.py"
SMALL = "fit_n=50&fit_side=16"


def click_surface_cell(app, log_gamma: float, log_noise: float) -> None:
    """Click the surface where (log10 gamma, log10 noise) is drawn, as a user would."""
    x, y = app.page.evaluate(
        """([title, lx, ly]) => {
            const g = Array.from(document.querySelectorAll('[data-testid="stPlotlyChart"] .js-plotly-plot'))
                .find(d => (d.layout.title.text || '').replace(/<[^>]*>/g, '') === title);
            g.scrollIntoView({block: 'center'});
            const box = g.getBoundingClientRect(), size = g._fullLayout._size;
            return [box.left + size.l + g._fullLayout.xaxis.l2p(lx),
                    box.top + size.t + g._fullLayout.yaxis.l2p(ly)];
        }""", [SURFACE_TITLE, log_gamma, log_noise])
    app.page.mouse.click(x, y)


def test_a_click_on_the_surface_chooses_the_point_and_redraws_the_fit(app):
    app.open_page(PAGE, SMALL)
    fit = app.plot("GP posterior mean")
    assert app.plot(SURFACE_TITLE)["types"][0] == "contour"
    # Cells of the 16-side grid sit at log10 gamma = -3 + 5k/15: k = 12 is gamma = 10.
    click_surface_cell(app, -3 + 5 * 12 / 15, -1.0 + 0.0)
    expect(app.page).to_have_url(re.compile(r"[?&]fit_gamma=10(&|$)"))
    app.wait_idle()
    assert app.plot("GP posterior mean")["fingerprint"] != fit["fingerprint"]
    app.assert_healthy()


def test_the_climb_draws_its_path_and_reports_the_top(app):
    app.open_page(PAGE, SMALL + "&fit_steps=25&fit_gamma=0.01&fit_noise=1")
    app.button("Climb from the chosen point").click()
    app.wait_for_text("Move the chosen point to the climb")
    surface = app.page.evaluate(
        """([title]) => Array.from(document.querySelectorAll('[data-testid="stPlotlyChart"] .js-plotly-plot'))
            .find(d => (d.layout.title.text || '').replace(/<[^>]*>/g, '') === title)
            .data.filter(t => t.name === 'climb').map(t => t.x.length || Object.keys(t.x).length)""",
        [SURFACE_TITLE])
    assert surface and surface[0] >= 2
    assert "The climb stopped" not in app.main_text()
    app.assert_healthy()


def test_the_url_reproduces_the_page_controls(app):
    app.open_page(PAGE, SMALL + "&fit_data=2-D+wave&fit_gamma=10")
    assert app.selected("Data") == "2-D wave"
    gamma = app.page.locator('[data-testid="stMain"] input[type="range"][aria-label="gamma (chosen point)"]')
    assert gamma.first.get_attribute("aria-valuetext") == "10"
    assert app.query().get("fit_gamma") == "10" and app.query().get("fit_data") == "2-D wave"
    assert app.warnings() == []  # no "unknown URL setting" notice for the page's own keys
    app.assert_healthy()
