"""The Scale page in a real browser: the block engine draws its result; a Stop
click, a new setting, leaving the page or closing the tab ends a running
computation and leaves the app working."""

from __future__ import annotations

import os
import re

import psutil
import pytest

from tests.e2e.app_page import AppPage, expect
from tests.e2e.server import assert_server_goes_idle
from tests.e2e.test_batching_race import set_main_slider

pytestmark = pytest.mark.e2e

PAGE = "scale.py"
N_SLIDER = "Number of points N"
RUNNING = " elapsed · "  # the progress text: "12,000 of 1,000,000 rows (1%) · 2 s elapsed · …"


def start_long_run(app: AppPage) -> None:
    """Compute K for a million points (hours of work) and wait until rows come in."""
    assert set_main_slider(app, N_SLIDER, "End") == "1,000,000"
    app.button("Compute").click()
    expect(app.main).to_contain_text(RUNNING, timeout=120_000)
    expect(app.button("Stop")).to_be_visible()


def assert_stopped_and_working(app: AppPage) -> None:
    assert app.button("Stop").count() == 0
    assert app.main.get_by_test_id("stProgress").count() == 0
    assert app.button("Compute").is_enabled()
    assert "Done:" not in app.main_text()
    app.assert_healthy()


def test_the_block_engine_draws_its_result(app, screenshot_dir):
    app.open_page(PAGE)
    assert "Nothing computed yet" in app.main_text() and not app.plots()
    # app.py splits the CPU into one JAX device per core (at most 8), and the engine
    # shards its rows over every device (launch/cpu_devices.py).
    devices = min(len(os.sched_getaffinity(0)), 8)
    assert f"{devices} CPU device{'s' if devices > 1 else ''}, each walking" in app.main_text()
    app.button("Compute").click()
    app.wait_for_text("Done: all 10,000 rows", timeout_ms=120_000)
    assert app.plot("K, pooled block by block")["points"] > 0
    assert app.plot("Row sums along the points")["points"] > 0
    assert app.plot("How the row sums are spread")["points"] > 0
    app.assert_healthy()
    app.screenshot(screenshot_dir / "scale.png")


def test_stop_or_a_new_setting_ends_a_running_computation(app):
    app.open_page(PAGE)
    for steps_in in (False, True):  # Stop at once, and once another step has come in
        start_long_run(app)
        if steps_in:  # the progress bar's text: "12,000 of 1,000,000 rows (1%) · 2 s elapsed · …"
            progress = app.main.get_by_test_id("stProgress")
            rows = re.search(r"[\d,]+(?= of 1,000,000 rows)", progress.inner_text()).group()
            expect(progress).not_to_contain_text(re.compile(rf"(^|[^\d,]){re.escape(rows)} of "))
        app.button("Stop").click()
        app.wait_for_text("Stopped after")
        assert "of 1,000,000 rows" in app.main_text() and "partial" in app.main_text()
        assert_stopped_and_working(app)  # the partial result is drawn without an error

    start_long_run(app)
    set_main_slider(app, "Features D", "ArrowRight")
    app.wait_for_text("was abandoned when a setting changed")
    assert "nothing of it is kept" in app.main_text()
    assert "D = 3" in app.main_text()
    assert_stopped_and_working(app)

    # The page still works: a small N computes to the end.
    set_main_slider(app, N_SLIDER, "Home")
    app.button("Compute").click()
    app.wait_for_text("Done: all 1,000 rows", timeout_ms=120_000)
    assert app.plot("K, pooled block by block")["points"] > 0
    app.assert_healthy()


def test_leaving_the_page_ends_a_running_computation(app):
    app.open_page(PAGE)
    start_long_run(app)
    app.go_to("Gram explorer")
    assert app.gram_heatmap()["points"] > 0
    app.assert_healthy()

    app.sidebar.get_by_role("link", name="Scale").click()
    app.wait_for_text("Stopped after")
    assert_stopped_and_working(app)


@pytest.mark.alone  # the server's CPU use is measured
def test_closing_the_tab_stops_the_computation_on_the_server(server, new_tab):
    proc = psutil.Process(server.pid)
    app = new_tab()
    app.open_page(PAGE)
    start_long_run(app)
    assert proc.cpu_percent(interval=1.5) > 20, "the computation is not running on the server"
    app.page.close()

    assert_server_goes_idle(proc, "the computation")
    assert server.alive()
    other = new_tab().open_page(PAGE)
    assert "Nothing computed yet" in other.main_text()
    other.assert_healthy()
