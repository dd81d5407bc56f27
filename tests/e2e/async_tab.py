"""`Tab`: one browser context with one tab, driven by Playwright's async API.

For tests that drive many sessions at once from one thread: the sync API cannot share
one browser between threads, and one browser per thread would not be "many users in
one browser". It has only the waits and reads such a test needs; the waits are
`AppPage`'s (tests/e2e/app_page.py) conditions, written once in tests/e2e/waits.py and
driven here by `run_async`, including `Wire` (tests/e2e/wire.py), which reads the
tab's websocket (Streamlit's own protobuf messages), so that `wait_idle` also waits
until the server has answered every rerun request the tab sent (the browser shows
"not running" while a request waits for its run to start: on a loaded server,
seconds), and a failing test can print which request carried which value and what
the server drew.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlencode

from tests.e2e.waits import healthy, idle, run_async, title_shown
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

    `AppPage`'s waits (the same conditions, tests/e2e/waits.py), plus the few reads
    this test needs. `errors`, `dialogs`: uncaught JavaScript errors and dialogs seen.
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
        """`AppPage.wait_idle`: the same conditions (`waits.idle`), within STEP_MS."""
        await run_async(idle(self.page, self.wire, expect, STEP_MS, quiet_ms))

    async def open(self, path: str, query: dict[str, Any]) -> None:
        await self.page.goto(f"{self.base_url}/{path}?{urlencode(query, doseq=True)}",
                             wait_until="domcontentloaded")
        await self.wait_idle()

    async def go_to(self, title: str) -> None:
        """Click `title` in the sidebar's page menu: the same session, another page."""
        self.wire.note(f"go to {title}")
        await self.page.get_by_test_id("stSidebar").get_by_role("link", name=title).click()
        await run_async(title_shown(self.page, self.wire, expect, title, STEP_MS))

    async def assert_healthy(self) -> None:
        """`AppPage.assert_healthy` (`waits.healthy`): no exception on screen, no JS
        error, no dialog or pop-up, still connected."""
        await run_async(healthy(self.page, self.errors, self.dialogs))
