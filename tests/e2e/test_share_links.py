"""Share links in a real browser: set controls, copy the address, open it elsewhere.

On every page a user changes a control of the page and one of the sidebar; the
address bar then holds the view. Opened in a NEW browser context (another
visitor: no cookies, no session), that address shows the same value in every
control, sidebar and page alike, and the same charts (for the Gram explorer the
heatmap's very values).
"""

from __future__ import annotations

import contextlib
import re
from typing import Any, Callable
from urllib.parse import urlsplit

import pytest

from tests.e2e.app_page import AppPage, page_url_path
from tests.test_architecture import EXPECTED_PAGES

pytestmark = pytest.mark.e2e

RUN_START_TIMEOUT_MS = 5_000  # a rerun starts within this after an interaction (or is already over)

# Every widget on screen as {"<area> <kind> <label>": value}, read from the DOM.
READ_CONTROLS = """() => {
    const out = {};
    const area = el => el.closest('[data-testid="stSidebar"]') ? 'sidebar' : 'main';
    const labelOf = w => (w.querySelector('[data-testid="stWidgetLabel"]')?.innerText || '').trim();
    document.querySelectorAll('input[role="combobox"]').forEach(e => {
        if (!e.closest('[data-testid="stMultiSelect"]'))
            out[area(e) + ' select ' + e.getAttribute('aria-label')] = e.value;
    });
    document.querySelectorAll('[data-testid="stMultiSelect"]').forEach(w => {
        out[area(w) + ' multiselect ' + labelOf(w)] = Array.from(
            w.querySelectorAll('[data-baseweb="tag"]')).map(t => t.innerText.trim()).join(' | ');
    });
    document.querySelectorAll('input[type="range"]').forEach(e => {
        out[area(e) + ' slider ' + e.getAttribute('aria-label')] = e.getAttribute('aria-valuetext');
    });
    document.querySelectorAll('[data-testid="stRadio"]').forEach(w => {
        const on = w.querySelector('input[type="radio"]:checked');
        out[area(w) + ' radio ' + labelOf(w)] = on ? on.closest('label').innerText.trim() : null;
    });
    document.querySelectorAll('[data-testid="stCheckbox"]').forEach(w => {
        const box = w.querySelector('input[type="checkbox"]');
        out[area(w) + ' toggle ' + w.innerText.trim()] = box ? box.checked : null;
    });
    document.querySelectorAll('[data-testid="stTextInput"] input, [data-testid="stNumberInput"] input')
        .forEach(e => { out[area(e) + ' input ' + e.getAttribute('aria-label')] = e.value; });
    document.querySelectorAll('[data-testid="stTextArea"] textarea')
        .forEach(e => { out[area(e) + ' text ' + e.getAttribute('aria-label')] = e.value; });
    return out;
}"""


def controls(app: AppPage) -> dict[str, Any]:
    return app.page.evaluate(READ_CONTROLS)


def _after(app: AppPage, before: str, action: Callable[[], None]) -> None:
    """Do `action`, then wait (Playwright's `expect`) until the address bar has changed
    and the rerun it asked for has run.

    The browser writes the address at once, before the server reruns: so wait for
    a run to have started since the action began (it may already be over: the
    tab counts every run it starts, `AppPage.runs_started`), then for idle.
    """
    from playwright.sync_api import Error, expect

    from tests.e2e.app_page import ACTION_TIMEOUT_MS

    runs = app.runs_started()
    action()
    expect(app.page).not_to_have_url(before, timeout=ACTION_TIMEOUT_MS)
    with contextlib.suppress(AssertionError, Error):
        app.wait_for_a_run_since(runs, timeout_ms=RUN_START_TIMEOUT_MS)
    app.wait_idle()


def press(app: AppPage, label: str, key: str, where: str = "stMain") -> None:
    """Focus the slider labelled `label` and press `key` on it."""
    slider = app.page.locator(f'[data-testid="{where}"] input[type="range"][aria-label="{label}"]').first

    def act() -> None:
        slider.focus()
        app.page.keyboard.press(key)

    _after(app, app.page.url, act)


def toggle(app: AppPage, label: str) -> None:
    box = app.page.locator('[data-testid="stMain"] [data-testid="stCheckbox"]', has_text=label).first
    _after(app, app.page.url, box.click)


def radio(app: AppPage, label: str, option: str, where: str = "stMain") -> None:
    _after(app, app.page.url, lambda: app.radio(label, option, where=where))


def type_into(app: AppPage, label: str, text: str, where: str = "stMain") -> None:
    box = app.page.locator(f'[data-testid="{where}"] input[aria-label="{label}"]').first

    def act() -> None:
        box.fill(text)
        box.press("Enter")

    _after(app, app.page.url, act)


LAPLACIAN = "def kernel(params, x, y):\n    return np.exp(-params['gamma'] * np.sum(np.abs(x - y)))\n"


def _type_source(app: AppPage, text: str) -> None:
    box = app.main.get_by_role("textbox", name=re.compile("Your kernel"))

    def act() -> None:
        box.fill(text)
        box.press("Control+Enter")

    _after(app, app.page.url, act)


# Per page: what a user changes there (a page control or two), as a function of the tab.
CHANGES: dict[str, Callable[[AppPage], None]] = {
    "overview.py": lambda app: app.select("Dataset", "Two moons"),
    "gram.py": lambda app: (toggle(app, "Order points by label"), app.press_gamma("ArrowRight")),
    "race.py": lambda app: (press(app, "Repeats", "ArrowRight"),
                                     press(app, "Budget per method", "ArrowLeft")),
    "anatomy.py": lambda app: (radio(app, "out_axes", "1"), type_into(app, "shape of a", "4, 3")),
    "precision.py": lambda app: (radio(app, "Lab precision (this page only)", "float64"),
                                     press(app, "Features D", "ArrowRight")),
    "kernels.py": lambda app: (radio(app, "Combine", "sum k₁ + k₂"),
                                  press(app, "1-D grid points", "ArrowLeft")),
    # The fewest rows: the loop of grad is timed again after every change (2 s per 100 rows).
    "gradients.py": lambda app: press(app, "Rows for the loop of grad", "Home"),
    "scale.py": lambda app: (radio(app, "Data", "uniform"), press(app, "Features D", "ArrowRight")),
    "fit.py": lambda app: press(app, "Most steps", "ArrowLeft"),
    "workbench.py": lambda app: _type_source(app, LAPLACIAN),
    "further.py": lambda app: (radio(app, "Collective", "pmean"),
                                    press(app, "copies", "ArrowRight")),
}
PAGES = list(CHANGES)
TIMED = {"anatomy.py", "gradients.py"}  # chart titles there carry timings


def change_sidebar(app: AppPage, page_file: str) -> str:
    """Change a precision or seed control the page shows; returns what the URL then holds.
    The sidebar's Precision everywhere but on the Precision lab, whose sidebar shows only the
    Seed, and on Fit, which shows no sidebar control and has its own precision."""
    if page_file == "precision.py":
        type_into(app, "Seed", "7", where="stSidebar")
        return "seed=7"
    if page_file == "fit.py":
        radio(app, "Fit precision (this page only)", "float32")
        return "fit_dtype=float32"
    radio(app, "Precision", "float64", where="stSidebar")
    return "dtype=float64"


def test_every_page_is_listed():

    assert sorted(PAGES) == sorted(EXPECTED_PAGES)


@pytest.mark.parametrize("page_file", PAGES)
def test_a_copied_url_reproduces_every_page_in_a_new_browser(app, context_factory, page_file):
    app.open_page(page_file, "n=200")
    defaults = controls(app)
    CHANGES[page_file](app)
    in_url = change_sidebar(app, page_file)  # a sidebar control on every page
    app.assert_healthy()
    shown, plots, url = controls(app), app.plots(), app.page.url
    changed = {k for k in shown if shown[k] != defaults.get(k)}
    assert len(changed) >= 2, (defaults, shown)
    assert in_url in urlsplit(url).query

    other = AppPage(context_factory().new_page(), app.base_url)
    parts = urlsplit(url)
    other.open(parts.path.lstrip("/"), parts.query)
    other.assert_healthy()
    assert controls(other) == shown
    assert [w for w in other.warnings() if "URL" in w] == []  # nothing in the link was refused
    assert len(other.plots()) == len(plots)
    if page_file not in TIMED:
        assert [p["title"] for p in other.plots()] == [p["title"] for p in plots]
    if page_file == "gram.py":
        assert other.gram_heatmap()["fingerprint"] == app.gram_heatmap()["fingerprint"]
        assert other.heatmap_title() == app.heatmap_title()


def test_a_changed_control_is_in_the_url_and_clears_the_notice(app):
    """Moved from tests/app/test_sidebar.py: AppTest has no address bar."""
    app.open_page("overview.py", "n=-5")
    assert any("URL value n=" in w for w in app.warnings())
    press(app, "Number of points N", "Home", where="stSidebar")
    shown = app.page.locator('[data-testid="stSidebar"] input[type="range"]'
                             '[aria-label="Number of points N"]').first.get_attribute("aria-valuetext")
    assert app.query().get("n") == re.sub(r"[^0-9]", "", shown) == "10"
    assert app.warnings() == []
    app.assert_healthy()


def test_sidebar_values_survive_a_page_switch_and_stay_in_the_url(app):
    app.open_page("overview.py")
    app.select("Dataset", "Two moons")
    radio(app, "Precision", "float64", where="stSidebar")
    app.page.get_by_role("link", name=re.compile("Gram explorer")).first.click()
    app.page.wait_for_url(re.compile(page_url_path("gram.py")))
    app.wait_idle()
    assert app.selected("Dataset") == "Two moons"
    assert app.first_markdown().startswith("Two moons:") and "float64" in app.first_markdown()
    assert app.query().get("dtype") == "float64" and app.query().get("dataset") == "Two moons"


def _smallest_eigenvalue(app: AppPage) -> str:
    metric = app.main.get_by_test_id("stMetric").filter(has_text="Smallest eigenvalue")
    return metric.get_by_test_id("stMetricValue").inner_text().strip()


def test_a_period_of_1_is_in_the_copied_link_of_the_periodic_kernel(app, context_factory):
    """The periodic kernel's period follows the data (141 on Digits); a user who sets it to 1
    copies a link that opens period 1 and the same smallest eigenvalue elsewhere. With
    the widget's fixed default 1, Streamlit left period=1 out of the address bar."""
    from playwright.sync_api import expect

    app.open_page("gram.py", "dataset=Digits+%288x8%29&kernel=Periodic")
    slider = app.sidebar.locator('input[type="range"][aria-label="period"]').first
    assert float(slider.get_attribute("aria-valuetext")) > 100  # the data's default
    at_default = _smallest_eigenvalue(app)
    press(app, "period", "Home", where="stSidebar")  # 0.05: 26 steps of 1/20 decade below 1
    for _ in range(26):
        slider.focus()
        app.page.keyboard.press("ArrowRight")
    expect(slider).to_have_attribute("aria-valuetext", "1")
    app.wait_for_query("period", "1")
    app.wait_idle()
    assert "period set by you" in app.main_text()  # the note beside gamma, on this page
    smallest = _smallest_eigenvalue(app)
    assert smallest != at_default  # what the link must carry is not what a bare visit shows

    other = AppPage(context_factory().new_page(), app.base_url)
    parts = urlsplit(app.page.url)
    other.open(parts.path.lstrip("/"), parts.query)
    other.assert_healthy()
    assert other.sidebar.locator('input[type="range"][aria-label="period"]').first.get_attribute(
        "aria-valuetext") == "1"
    assert _smallest_eigenvalue(other) == smallest
