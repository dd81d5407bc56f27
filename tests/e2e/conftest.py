"""End-to-end fixtures: the real app (`streamlit run app.py`) driven by Debian's Chromium.

Fixtures only; the helpers are modules of their own, which the benchmarks import too:
the Chromium launched (tests/e2e/browser.py: the system one, `VMAP_CHROMIUM`), the
server (tests/e2e/server.py), a tab and its waits (tests/e2e/app_page.py, whose
conditions tests/e2e/waits.py writes once for the sync and the async API). Where
Chromium or the playwright package is missing the tests are skipped with the reason,
unless `VMAP_REQUIRE_E2E=1` (set by `.ci/run`): then the same check fails them.

One server (session scope) serves every test; each test gets a tab on a new document,
which is a Streamlit session of its own (tabs share one browser context, and a tab
an earlier test left is used again: `new_tab`). `AppPage` holds the Streamlit-specific
waits and widget moves, so the tests read like what a user does. Waits are Playwright's own
auto-retrying `expect(locator)...` on elements named by role and label, as in
Streamlit's e2e_playwright suite; nothing polls a JavaScript string.

Screenshots go to a temporary folder; `VMAP_REFRESH_SCREENSHOTS=1` writes them to
docs/screenshots instead (the README's pictures).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.e2e.app_page import VIEWPORT, AppPage, warm_up
from tests.e2e.browser import CHROMIUM, CHROMIUM_ARGS, why_unavailable
from tests.e2e.server import ROOT, Server, run_server

DOCS_SCREENSHOTS = ROOT / "docs" / "screenshots"
REFRESH_SCREENSHOTS = os.environ.get("VMAP_REFRESH_SCREENSHOTS", "").strip() not in ("", "0", "false", "no")
REQUIRED = os.environ.get("VMAP_REQUIRE_E2E", "").strip() not in ("", "0", "false", "no")


@pytest.fixture(scope="session")
def screenshot_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots go: a temporary folder, or docs/screenshots under
    VMAP_REFRESH_SCREENSHOTS=1 (the README's pictures are refreshed only on request)."""
    return DOCS_SCREENSHOTS if REFRESH_SCREENSHOTS else tmp_path_factory.mktemp("screenshots")


# --- availability: skip, or fail under VMAP_REQUIRE_E2E ----------------------------

def _unavailable(reason: str) -> None:
    message = f"end-to-end browser tests cannot run: {reason}"
    if REQUIRED:
        pytest.fail(message + " [VMAP_REQUIRE_E2E is set: a missing browser is a failure]",
                    pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def e2e_ready() -> None:
    """Skips (or, with VMAP_REQUIRE_E2E=1, fails) every e2e test when the browser is missing."""
    reason = why_unavailable()
    if reason:
        _unavailable(reason)


@pytest.fixture(scope="session")
def browser(e2e_ready: None) -> Iterator[Any]:
    from playwright.sync_api import Error, sync_playwright

    with sync_playwright() as pw:
        try:
            chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        except Error as err:
            _unavailable(f"Chromium at {CHROMIUM} did not start: {str(err).splitlines()[0]}")
        yield chromium
        chromium.close()


# --- the server ------------------------------------------------------------------

@pytest.fixture(scope="session")
def server(e2e_ready: None, tabs: Any) -> Iterator[Server]:
    # No background warm-up (ui/server/warmup.py): this server also serves the tests marked
    # `alone`, which measure its CPU; tests/e2e/test_warmup.py starts its own with it.
    with run_server(env={"VMAP_WARMUP": "0"}) as s:
        warm_up(s, tabs)
        yield s


@pytest.fixture(scope="session")
def tabs(browser: Any) -> Iterator[Any]:
    """One browser context for the whole run. Every tab in it is a Streamlit session of
    its own (a session is one websocket, not a cookie), and the tabs share the HTTP and
    code caches, so each new tab does not parse the app's JavaScript bundle anew."""
    ctx = browser.new_context(viewport=VIEWPORT, accept_downloads=False)
    yield ctx
    ctx.close()


@pytest.fixture(scope="session")
def idle_tabs(tabs: Any) -> Iterator[list[Any]]:
    """Tabs of `tabs` that a finished test has left (on about:blank), for the next test."""
    pool: list[Any] = []
    yield pool
    for page in pool:
        with contextlib.suppress(Exception):
            page.close()


def leave(app: AppPage) -> bool:
    """End the tab's visit as a user who leaves the app does: it goes to about:blank
    (its websocket, so its session, closes), its window and colour scheme back to the
    suite's, and what the app's pages stored in the browser (the sidebar's remembered
    state, a theme chosen in the menu) is cleared, so the next test starts from none.
    False where the tab cannot be used again (the test closed it, or it does not answer)."""
    app.detach()
    page = app.page
    if page.is_closed():
        return False
    try:
        page.evaluate("() => { try { sessionStorage.clear(); localStorage.clear(); } catch (e) {} }")
        page.goto("about:blank", timeout=30_000)
        page.set_viewport_size(VIEWPORT)
        page.emulate_media(color_scheme="null", reduced_motion="null")  # the context's own
    except Exception:  # noqa: BLE001 - a tab in a bad state is closed, not used again
        with contextlib.suppress(Exception):
            page.close()
        return False
    return True


@pytest.fixture
def new_tab(server: Server, tabs: Any, idle_tabs: list[Any]) -> Iterator[Any]:
    """`new_tab()` opens the app in a tab of `tabs`: a new session. The tab is one an
    earlier test left where there is one: a new document in the same tab is a new
    visitor to the server (a session is one websocket), and the browser reuses the tab's
    renderer, its compiled JavaScript and fonts, which a new tab would load again (a
    page load costs about a third less CPU). Left for the next test after this one."""
    made: list[AppPage] = []

    def open_tab() -> AppPage:
        app = AppPage(idle_tabs.pop() if idle_tabs else tabs.new_page(), server.url)
        made.append(app)
        return app

    yield open_tab
    for app in made:
        if leave(app):
            idle_tabs.append(app.page)


@pytest.fixture
def context_factory(browser: Any) -> Iterator[Any]:
    """`new_context()` makes a fresh browser context: a visitor with nothing cached."""
    made = []

    def new_context() -> Any:
        ctx = browser.new_context(viewport=VIEWPORT, accept_downloads=False)
        made.append(ctx)
        return ctx

    yield new_context
    for ctx in made:
        with contextlib.suppress(Exception):
            ctx.close()


@pytest.fixture
def app(new_tab: Any) -> AppPage:
    """A fresh tab (its own Streamlit session) on the shared server."""
    return new_tab()
