"""`Tab`: one browser context with one tab, driven by Playwright's async API.

The async twin of `AppPage` (tests/e2e/app_page.py) for tests that drive many
sessions at once from one thread: the sync API cannot share one browser between
threads, and one browser per thread would not be "many users in one browser".
It has only the waits and reads such a test needs, with `AppPage`'s conditions,
including `Wire` (tests/e2e/wire.py), which reads the tab's websocket (Streamlit's
own protobuf messages), so that `wait_idle` also waits until the server has
answered every rerun request the tab sent (the browser shows "not running" while a
request waits for its run to start: on a loaded server, seconds), and a failing
test can print which request carried which value and what the server drew.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any
from urllib.parse import urlencode

from tests.e2e.wire import Wire


try:
    from playwright.async_api import expect
except ImportError:  # the e2e fixtures skip (or fail) with the reason
    expect = None

__all__ = ["STEP_MS", "Tab", "Wire"]

STEP_MS = 240_000  # one step of one user, with 16 users and 16 tabs on 2 shared cores
if expect is not None:
    expect.set_options(timeout=STEP_MS)  # the async API's own `expect` (Playwright's default: 5 s)
# Smaller than AppPage's 1400 x 1000, and no animations (Streamlit's spinners and
# skeletons): many tabs at once spend their CPU drawing, in software (no GPU here).
SMALL_VIEWPORT = {"width": 1100, "height": 760}


class Tab:
    """One browser context with one tab: one user's Streamlit session.

    The async twin of `AppPage`'s waits (same conditions), plus the few reads this
    test needs. `errors`, `dialogs`: uncaught JavaScript errors and dialogs seen.
    """

    def __init__(self, context: Any, page: Any, base_url: str) -> None:
        self.context, self.page, self.base_url = context, page, base_url
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        page.on("pageerror", lambda err: self.errors.append(str(err)))
        page.on("dialog", lambda d: (self.dialogs.append(f"{d.type}: {d.message}"),
                                     asyncio.ensure_future(d.dismiss())))
        page.set_default_timeout(STEP_MS)
        self.wire = Wire()
        page.on("websocket", self.wire.attach)

    @classmethod
    async def new(cls, browser: Any, base_url: str) -> Tab:
        context = await browser.new_context(viewport=SMALL_VIEWPORT, reduced_motion="reduce",
                                            accept_downloads=False)
        return cls(context, await context.new_page(), base_url)

    @property
    def main(self) -> Any:
        return self.page.get_by_test_id("stMain")

    async def wait_idle(self, quiet_ms: int = 400) -> None:
        """`AppPage.wait_idle`, the same conditions: every rerun request this tab sent
        answered by a whole run (`Wire.answered`: "not running" alone is also true
        while a request waits for the server to start its run), connected, the run
        over, nothing loading, every chart drawn; and still so after `quiet_ms`."""
        app = self.page.get_by_test_id("stApp")
        status = self.page.get_by_test_id("stStatusWidget")
        undrawn = self.page.get_by_test_id("stPlotlyChart").filter(
            has_not=self.page.locator(".js-plotly-plot .main-svg"))
        deadline = time.monotonic() + STEP_MS / 1000
        while True:
            while not self.wire.answered():
                assert time.monotonic() < deadline, (
                    f"the server did not answer a rerun request within {STEP_MS} ms")
                await asyncio.sleep(0.05)
            left = max(1_000, int((deadline - time.monotonic()) * 1000))
            await expect(app).to_have_attribute("data-test-connection-state", "CONNECTED", timeout=left)
            await expect(app).to_have_attribute("data-test-script-state", "notRunning", timeout=left)
            await expect(status).to_have_count(0, timeout=left)
            await expect(self.page.get_by_test_id("stSkeleton")).to_have_count(0, timeout=left)
            await expect(undrawn).to_have_count(0, timeout=left)
            shape = await self.page.locator("[data-testid]").count()
            await self.page.wait_for_timeout(quiet_ms)
            if (self.wire.answered()
                    and await app.get_attribute("data-test-script-state") == "notRunning"
                    and await status.count() == 0
                    and await self.page.locator("[data-testid]").count() == shape):
                return
            assert time.monotonic() < deadline, f"the app did not settle within {STEP_MS} ms"

    async def open(self, path: str, query: dict[str, Any]) -> None:
        await self.page.goto(f"{self.base_url}/{path}?{urlencode(query, doseq=True)}",
                             wait_until="domcontentloaded")
        await self.wait_idle()

    async def go_to(self, title: str) -> None:
        """Click `title` in the sidebar's page menu: the same session, another page."""
        self.wire.note(f"go to {title}")
        await self.page.get_by_test_id("stSidebar").get_by_role("link", name=title).click()
        await expect(self.main.get_by_role("heading", level=1).first).to_have_text(title)
        await self.wait_idle()

    async def assert_healthy(self) -> None:
        """`AppPage.assert_healthy`: no exception on screen, no JS error, no dialog or
        pop-up, still connected."""
        shown = await self.page.get_by_test_id("stException").all_inner_texts()
        assert shown == [], shown
        assert self.errors == [] and self.dialogs == [], (self.errors, self.dialogs)
        assert await self.page.get_by_role("dialog").all_inner_texts() == []
        state = await self.page.get_by_test_id("stApp").get_attribute("data-test-connection-state")
        assert state == "CONNECTED", state
