"""The background warm-up (ui/server/warmup.py) never makes a visitor wait for it: with the
warm-up thread started and held (VMAP_WARMUP_HOLD), the first visitor's page and the next
page they open are drawn; released, the warm-up runs to its end on the same server."""

from __future__ import annotations

import time

import pytest

from tests.e2e.app_page import VIEWPORT, AppPage
from tests.e2e.server import run_server

pytestmark = pytest.mark.e2e


def _wait_for_log(server, text: str, within_s: float) -> None:
    deadline = time.monotonic() + within_s
    while text not in server.log_tail(20_000):
        assert server.proc.poll() is None, server.log_tail()
        assert time.monotonic() < deadline, f"{text!r} not in the server's log:\n{server.log_tail()}"
        time.sleep(0.5)  # the server's log file: no browser condition can wait for it


def test_pages_are_served_while_the_warmup_is_held_and_it_ends_once_released(browser, tmp_path):
    release = tmp_path / "release"
    with run_server(env={"VMAP_WARMUP": "1", "VMAP_WARMUP_HOLD": str(release)}) as server:
        context = browser.new_context(viewport=VIEWPORT)
        try:
            app = AppPage(context.new_page(), server.url).open()
            app.wait_for_title("vmap explorer")
            # The first run started the thread, which now waits for the release file.
            _wait_for_log(server, "warm-up held until", within_s=60)
            app.go_to("Gram explorer")
            app.assert_healthy()
            assert "warm-up started" not in server.log_tail(20_000)
            release.touch()
            # A deadline for a background job on a busy machine, not a timing.
            _wait_for_log(server, "warm-up done", within_s=900)
            assert "failed" not in server.log_tail(20_000)
            app.go_to("Fit")
            app.assert_healthy()
        finally:
            context.close()
