"""End-to-end fixtures: the real app (`streamlit run app.py`) driven by Debian's Chromium.

Playwright's own browser download is blocked, so the tests launch the system
Chromium (`VMAP_CHROMIUM`, default /usr/bin/chromium). Where Chromium or the
playwright package is missing the tests are skipped with the reason, unless
`VMAP_REQUIRE_E2E=1` (set by `.ci/run`): then the same check fails them.

One server (session scope) serves every test; each test gets a fresh tab, which is
a Streamlit session of its own (tabs share one browser context, so the app's
JavaScript is parsed once). `AppPage` holds the Streamlit-specific waits and
widget moves, so the tests read like what a user does.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any, Iterator

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "screenshots"
CHROMIUM = os.environ.get("VMAP_CHROMIUM", "/usr/bin/chromium")
REQUIRED = os.environ.get("VMAP_REQUIRE_E2E", "").strip() not in ("", "0", "false", "no")
VIEWPORT = {"width": 1400, "height": 1000}
CHROMIUM_ARGS = [
    "--no-sandbox",  # runs as root in a container
    "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]
# Generous: the first run of a page compiles its JAX functions on a busy 2-core machine.
LOAD_TIMEOUT_MS = 180_000
ACTION_TIMEOUT_MS = 90_000


def _app_pages() -> dict[str, str]:
    """{page file: url path}, in menu order, from the router's page index."""
    from ui.page_index import PAGES

    return {name: info.url_path for name, info in PAGES.items()}


APP_PAGES = _app_pages()
# The pages that exist now, in menu order: the router serves exactly these.
EXISTING_PAGES = [(f, url) for f, url in APP_PAGES.items() if (ROOT / "app_pages" / f).exists()]


def page_url_path(page_file: str) -> str:
    """The address of a page: the router's default page (the first) lives at "/" only
    (Streamlit answers its url_path with "Page not found")."""
    return "" if page_file == EXISTING_PAGES[0][0] else APP_PAGES[page_file]


# --- availability: skip, or fail under VMAP_REQUIRE_E2E ----------------------------

def _why_unavailable() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as err:
        return f"the playwright package is not installed ({err}); pip install playwright"
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        return (f"Chromium not found at {CHROMIUM} (apt-get install chromium, or point "
                "VMAP_CHROMIUM at a Chromium binary)")
    return None


def _unavailable(reason: str) -> None:
    message = f"end-to-end browser tests cannot run: {reason}"
    if REQUIRED:
        pytest.fail(message + " [VMAP_REQUIRE_E2E is set: a missing browser is a failure]",
                    pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def e2e_ready() -> None:
    """Skips (or, with VMAP_REQUIRE_E2E=1, fails) every e2e test when the browser is missing."""
    reason = _why_unavailable()
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

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A running `streamlit run app.py`: its base URL, process and log."""

    def __init__(self, proc: subprocess.Popen, url: str, log: Path) -> None:
        self.proc, self.url, self.log = proc, url, log

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        if self.proc.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(self.url + "/_stcore/health", timeout=5) as r:
                return r.read().decode().strip() == "ok"
        except OSError:
            return False

    def log_tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:]


@contextlib.contextmanager
def run_server(*extra_args: str, timeout_s: float = 120) -> Iterator[Server]:
    """Start the app on a free loopback port, wait until healthy, stop it afterwards."""
    port = free_port()
    log = Path(tempfile.mkstemp(prefix="vmap-e2e-streamlit-", suffix=".log")[1])
    cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
           "--server.port", str(port), "--server.address", "127.0.0.1",
           "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
           # Hides the "Deploy" button in the screenshots; the app is not changed.
           "--client.toolbarMode", "viewer", *extra_args]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    server = Server(proc, f"http://127.0.0.1:{port}", log)
    try:
        deadline = time.monotonic() + timeout_s
        while not server.alive():
            if proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with {proc.returncode}:\n{server.log_tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"streamlit not healthy after {timeout_s:.0f} s:\n{server.log_tail()}")
            time.sleep(0.25)
        yield server
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=15)
        with contextlib.suppress(OSError):
            log.unlink()


def warm_up(server: Server, tabs: Any) -> None:
    """One visit to the main page: compiles the JAX functions, and registers the
    pages (a server's very first visitor to a deep link gets Streamlit's spurious
    "Page not found" dialog: see test_many_users.py)."""
    page = tabs.new_page()
    try:
        AppPage(page, server.url).open()
    finally:
        page.close()


@pytest.fixture(scope="session")
def server(e2e_ready: None, tabs: Any) -> Iterator[Server]:
    with run_server() as s:
        warm_up(s, tabs)
        yield s


# --- one browser tab on the app ------------------------------------------------------

class AppPage:
    """A tab on the app, with Streamlit-aware waits and widget moves.

    Attributes:
      page: the Playwright page. errors: uncaught JavaScript errors seen.
      dialogs: alert/confirm/prompt dialogs opened (and dismissed).
    """

    def __init__(self, page: Any, base_url: str) -> None:
        self.page, self.base_url = page, base_url
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        page.on("pageerror", lambda err: self.errors.append(str(err)))

        def on_dialog(dialog: Any) -> None:
            self.dialogs.append(f"{dialog.type}: {dialog.message}")
            dialog.dismiss()

        page.on("dialog", on_dialog)
        page.set_default_timeout(ACTION_TIMEOUT_MS)

    # navigation and waits

    def open(self, path: str = "", query: str = "", timeout_ms: int = LOAD_TIMEOUT_MS) -> "AppPage":
        """Load `/<path>?<query>` and wait until the script has run."""
        url = f"{self.base_url}/{path}" + (f"?{query}" if query else "")
        self.page.goto(url, wait_until="domcontentloaded")
        self.page.wait_for_selector('[data-testid="stApp"]', timeout=timeout_ms)
        self.wait_idle(timeout_ms)
        return self

    def open_page(self, page_file: str, query: str = "", **kw: Any) -> "AppPage":
        return self.open(page_url_path(page_file), query, **kw)

    def wait_idle(self, timeout_ms: int = ACTION_TIMEOUT_MS, quiet_ms: int = 400) -> None:
        """Wait until the app is idle: the script run is over (state notRunning, no
        running indicator, connected), no element is still loading its code, every
        Plotly chart is drawn, and all of that has held, with no element added or
        removed, for `quiet_ms` (a rerun can start right after one ends)."""
        self.page.wait_for_function(
            """([quiet]) => {
                const app = document.querySelector('[data-testid="stApp"]');
                const charts = Array.from(document.querySelectorAll('[data-testid="stPlotlyChart"]'));
                const idle = app && app.dataset.testScriptState === 'notRunning'
                    && app.dataset.testConnectionState === 'CONNECTED'
                    && !document.querySelector('[data-testid="stStatusWidget"]')
                    && !document.querySelector('[data-testid="stSkeleton"]')  // lazy element loading
                    && charts.every(c => { const g = c.querySelector('.js-plotly-plot');
                                           return g && g._fullData && g._fullLayout; });
                const shape = document.querySelectorAll('[data-testid]').length + ':' + charts.length;
                const now = performance.now();
                if (!idle || window.__e2eShape !== shape) {
                    window.__e2eShape = shape; window.__e2eSince = now; return false;
                }
                return now - window.__e2eSince >= quiet;
            }""", arg=[quiet_ms], timeout=timeout_ms, polling=100)

    def wait_for(self, js_predicate: str, arg: Any = None, timeout_ms: int = ACTION_TIMEOUT_MS) -> None:
        """Wait for a JS predicate `(arg) => bool`, then for the run to finish."""
        self.page.wait_for_function(js_predicate, arg=arg, timeout=timeout_ms, polling=100)
        self.wait_idle(timeout_ms)

    # reading the screen

    def main_text(self) -> str:
        return self.page.inner_text('[data-testid="stMain"]')

    def first_markdown(self) -> str:
        """The page's summary line, e.g. 'Blobs: N = 400 points in D = 2 dimensions, float32…'."""
        return self.page.locator('[data-testid="stMain"] [data-testid="stMarkdown"]').first.inner_text()

    def exceptions(self) -> list[str]:
        loc = self.page.locator('[data-testid="stException"]')
        return [loc.nth(i).inner_text()[:1500] for i in range(loc.count())]

    def warnings(self) -> list[str]:
        loc = self.page.locator('[data-testid="stMain"] [data-testid="stAlertContentWarning"]')
        return [loc.nth(i).inner_text() for i in range(loc.count())]

    def errors_shown(self) -> list[str]:
        loc = self.page.locator('[data-testid="stAlertContentError"]')
        return [loc.nth(i).inner_text() for i in range(loc.count())]

    def plots(self) -> list[dict[str, Any]]:
        """Every drawn Plotly chart: its title, trace types, points drawn, and a
        fingerprint of its data (changes when any value changes)."""
        return self.page.evaluate(
            """() => Array.from(document.querySelectorAll('[data-testid="stPlotlyChart"] .js-plotly-plot'))
                .map(g => {
                    const t = g.layout && g.layout.title;
                    const full = g._fullData || [];
                    const size = a => (a && a.length) || 0;
                    return {
                        title: ((t && (t.text || t)) || '').toString().replace(/<[^>]*>/g, ''),
                        types: full.map(d => d.type),
                        points: full.reduce((s, d) => s + Math.max(size(d.x), size(d.y), size(d.z),
                                                                   size(d.values)), 0),
                        fingerprint: JSON.stringify(g.data),
                        visible: g.getBoundingClientRect().height > 0,
                    };
                })""")

    def plot(self, title_start: str) -> dict[str, Any]:
        found = [p for p in self.plots() if p["title"].startswith(title_start)]
        assert found, f"no chart titled {title_start!r}: {[p['title'] for p in self.plots()]}"
        return found[0]

    def heatmap_title(self) -> str:
        return self.plot("K, gamma =")["title"]

    def query(self) -> dict[str, str]:
        from urllib.parse import parse_qsl, urlsplit
        return dict(parse_qsl(urlsplit(self.page.url).query))

    # moving widgets as a user does

    def gamma_input(self) -> Any:
        """The gamma select_slider's keyboard-focusable range input (main area first)."""
        sliders = self.page.locator('input[type="range"][aria-label="gamma (log scale)"]')
        main = self.page.locator('[data-testid="stMain"] input[type="range"][aria-label="gamma (log scale)"]')
        return main.first if main.count() else sliders.first

    def gamma_shown(self) -> str:
        return self.gamma_input().get_attribute("aria-valuetext")

    def press_gamma(self, key: str = "ArrowRight") -> str:
        """Focus the gamma slider, press `key`, wait for the run; return the new value."""
        before = self.gamma_shown()
        slider = self.gamma_input()
        slider.focus()
        self.page.keyboard.press(key)
        self.page.wait_for_function(
            """([before]) => {
                const main = document.querySelector(
                    '[data-testid="stMain"] input[type="range"][aria-label="gamma (log scale)"]');
                const el = main || document.querySelector('input[type="range"][aria-label="gamma (log scale)"]');
                return el && el.getAttribute('aria-valuetext') !== before;
            }""", arg=[before], timeout=ACTION_TIMEOUT_MS)
        shown = self.gamma_shown()
        # The run has happened once the URL (synced by the app) holds the new gamma.
        self.page.wait_for_function(
            """([shown]) => {
                const g = parseFloat(new URLSearchParams(location.search).get('gamma'));
                return Math.abs(Math.log10(g) - Math.log10(parseFloat(shown))) < 0.01;
            }""", arg=[shown], timeout=ACTION_TIMEOUT_MS)
        self.wait_idle()
        return self.gamma_shown()

    def select(self, label: str, option: str) -> None:
        """Choose `option` (its shown text) in the selectbox labelled `label`."""
        box = self.page.locator(f'input[role="combobox"][aria-label="{label}"]').first
        listbox = self.page.locator('[data-testid="stSelectboxVirtualDropdown"]')
        for attempt in range(3):
            # The dropdown closes when its container scrolls: scroll first, then open.
            box.scroll_into_view_if_needed()
            self.page.wait_for_timeout(200)
            box.click()
            try:
                listbox.wait_for(state="visible", timeout=5_000)
                break
            except Exception:
                if attempt == 2:
                    raise
        # Typing filters the (virtualised) list, so the option is drawn wherever it is.
        box.fill(option)
        listbox.locator('[role="option"]', has_text=re.compile(f"^{re.escape(option)}$")).first.click()
        self.page.wait_for_function(
            "([label, option]) => { const e = document.querySelector(`input[role=\"combobox\"][aria-label=\"${label}\"]`);"
            " return e && e.value === option; }", arg=[label, option])
        self.wait_idle()

    def selected(self, label: str) -> str:
        return self.page.locator(f'input[role="combobox"][aria-label="{label}"]').first.input_value()

    def radio(self, label: str, option: str, where: str = "stSidebar") -> None:
        """Choose `option` in the radio group labelled `label` (in the sidebar unless
        `where` names another area, e.g. "stMain")."""
        group = self.page.locator(f'[data-testid="{where}"] [data-testid="stRadio"]').filter(
            has=self.page.locator('[data-testid="stWidgetLabel"]', has_text=label))
        group.locator('label', has_text=re.compile(f"^{re.escape(option)}$")).first.click()
        self.wait_idle()

    def button(self, text: str) -> Any:
        """The page's button named `text` (the header's own Stop button is not one)."""
        return self.page.locator('[data-testid="stMain"]').get_by_role("button", name=text, exact=True)

    # health and screenshots

    def assert_healthy(self) -> None:
        """No Python exception on screen, no JS error, no dialog, still connected."""
        assert self.exceptions() == [], self.exceptions()
        assert self.errors == [], self.errors
        assert self.dialogs == [], self.dialogs
        state = self.page.get_attribute('[data-testid="stApp"]', "data-test-connection-state")
        assert state == "CONNECTED", state

    def screenshot(self, path: Path) -> None:
        """The whole page (the main area scrolls inside the window): grow the
        viewport to the content's height, shoot, restore."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self.page.mouse.move(0, 0)  # no hover tooltip in the picture
        height = self.page.evaluate(
            "() => Math.max(document.querySelector('[data-testid=\"stMain\"]').scrollHeight,"
            " document.querySelector('[data-testid=\"stSidebarContent\"]')?.scrollHeight || 0)")
        self.page.set_viewport_size({"width": VIEWPORT["width"], "height": min(max(height, VIEWPORT["height"]), 8000)})
        try:
            self.page.wait_for_timeout(300)  # charts re-lay out to the new size
            self.wait_idle()
            self.page.screenshot(path=str(path), full_page=True, animations="disabled")
        finally:
            self.page.set_viewport_size(VIEWPORT)


@pytest.fixture(scope="session")
def tabs(browser: Any) -> Iterator[Any]:
    """One browser context for the whole run. Every tab in it is a Streamlit session of
    its own (a session is one websocket, not a cookie), and the tabs share the HTTP and
    code caches, so each new tab does not parse the app's JavaScript bundle anew."""
    ctx = browser.new_context(viewport=VIEWPORT, accept_downloads=False)
    yield ctx
    ctx.close()


@pytest.fixture
def new_tab(server: Server, tabs: Any) -> Iterator[Any]:
    """`new_tab()` opens another tab on the shared server: a new session. Closed after the test."""
    made: list[Any] = []

    def open_tab() -> AppPage:
        page = tabs.new_page()
        made.append(page)
        return AppPage(page, server.url)

    yield open_tab
    for page in made:
        with contextlib.suppress(Exception):
            page.close()


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


def assert_server_goes_idle(proc, what: str, within_s: float = 15) -> None:
    """The server process (psutil) drops below 10% CPU within `within_s` seconds:
    closing a tab must stop its work, long before that work could have finished."""
    deadline, samples = time.monotonic() + within_s, []
    while time.monotonic() < deadline:
        samples.append(proc.cpu_percent(interval=1.5))
        if samples[-1] < 10:
            break
    assert samples[-1] < 10, f"the server kept working on {what} after the tab closed: CPU % {samples}"
