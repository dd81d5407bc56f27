"""The batching race in a real browser: a race draws its bars; a Stop click, a new
setting, leaving the page or closing the tab ends a running race and leaves the
app working."""

from __future__ import annotations

import psutil
import pytest

from tests.e2e.app_page import AppPage, expect
from tests.e2e.server import assert_server_goes_idle

pytestmark = pytest.mark.e2e

PAGE = "race.py"
STOPPED = "stopped before it finished"


def set_main_slider(app: AppPage, label: str, key: str) -> str:
    """Press `key` (Home/End/arrows) on the main-area slider labelled `label`."""
    slider = app.main.get_by_role("slider", name=label)
    # After a rerun a run's stale copy of the slider can linger a moment beside the new one.
    expect(slider).to_have_count(1)
    value, low, high = (slider.get_attribute(a) for a in ("value", "min", "max"))
    if (key, value) in (("Home", low), ("End", high)):
        return slider.get_attribute("aria-valuetext")  # already there: the key would change nothing
    app.press_slider(slider, key)
    app.wait_idle()
    return slider.get_attribute("aria-valuetext")


def start_long_race(app: AppPage) -> None:
    """Click Run with 30 repeats and 5 s per method, and wait until it is timing."""
    assert set_main_slider(app, "Repeats", "End") == "30"
    assert set_main_slider(app, "Budget per method", "End") == "5 s"
    app.button("Run the race").click()
    expect(app.main).to_contain_text("Timing ", timeout=60_000)
    assert app.page.get_by_test_id("stApp").get_attribute("data-test-script-state") == "running"


def assert_nothing_kept(app: AppPage) -> None:
    text = app.main_text()
    assert STOPPED in text and "nothing from it was kept" in text
    assert "No results yet" in text and "Fastest per call" not in text
    assert app.button("Stop").count() == 0
    assert app.main.get_by_test_id("stProgress").count() == 0
    assert app.button("Run the race").is_enabled()
    app.assert_healthy()


def test_a_race_draws_its_bars(app, screenshot_dir):
    app.open_page(PAGE, "n=200")
    assert "No results yet" in app.main_text() and not app.plots()
    app.button("Run the race").click()
    app.wait_for_text("The race finished", timeout_ms=120_000)
    chart = app.plot("Time per call")
    assert set(chart["types"]) == {"bar"}
    methods = app.main.get_by_test_id("stMultiSelect").first.locator("span[data-tag]").count()
    bars = chart["traces"]
    assert methods >= 2 and max(bars) == methods, (bars, methods)  # one bar per method
    assert app.plot("Speedup over")["points"] > 0
    assert "Fastest per call" in app.main_text()
    expect(app.main.get_by_test_id("stDataFrame")).to_have_count(1)
    app.assert_healthy()
    app.screenshot(screenshot_dir / "race.png")


def test_stop_or_a_new_setting_ends_a_running_race(app):
    app.open_page(PAGE, "n=1000")
    start_long_race(app)
    app.button("Stop").click()
    app.wait_for_text(STOPPED)
    assert_nothing_kept(app)

    start_long_race(app)
    app.radio("Precision", "float64")
    app.wait_for_text("float64, gamma =")
    assert_nothing_kept(app)

    # The page still works: a short race finishes and draws its bars.
    set_main_slider(app, "Repeats", "Home")
    set_main_slider(app, "Budget per method", "Home")
    app.button("Run the race").click()
    app.wait_for_text("The race finished", timeout_ms=120_000)
    assert app.plot("Time per call")["points"] > 0
    assert STOPPED not in app.main_text()
    app.assert_healthy()


def test_leaving_the_page_ends_a_running_race(app):
    app.open_page(PAGE, "n=1000")
    start_long_race(app)
    app.go_to("Gram explorer")
    assert app.gram_heatmap()["points"] > 0
    assert "N = 1,000 points" in app.first_markdown()
    app.assert_healthy()

    app.sidebar.get_by_role("link", name="Batching race").click()
    app.wait_for_text(STOPPED)
    assert_nothing_kept(app)
    expect(app.main.get_by_role("slider", name="Repeats")).to_have_attribute("aria-valuetext", "30")


@pytest.mark.alone  # the server's CPU use is measured
def test_closing_the_tab_stops_the_race_on_the_server(server, new_tab):
    proc = psutil.Process(server.pid)
    app = new_tab()
    app.open_page(PAGE, "n=2000")
    start_long_race(app)  # 9 methods, up to 5 s each: tens of seconds of work
    assert proc.cpu_percent(interval=1.5) > 20, "the race is not running on the server"
    app.page.close()

    assert_server_goes_idle(proc, "the race")
    assert server.alive()
    other = new_tab().open_page(PAGE, "n=2000")
    assert "No results yet" in other.main_text()
    other.assert_healthy()
