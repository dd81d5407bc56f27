"""`AppPage`: one browser tab on the app, with the waits and widget moves a test needs.

Every wait is Playwright's own auto-retrying `expect(locator)...` (or `wait_for_url`),
on elements named by role and label where the app gives them one, as in
Streamlit's e2e_playwright suite; no JavaScript string is polled. JavaScript is
evaluated only to read what the DOM does not show: a chart's data (`plots`; Plotly
keeps it on the element) and the page's scroll height for a screenshot; and one
script added to every tab (COUNT_RUNS_JS) counts the script runs it starts, so that
"a run has started since the click" can be waited for even when that run is over.
`Wire` (tests/e2e/wire.py) reads the tab's websocket, so that `wait_idle` also waits
until the server has answered every rerun request the tab sent. The waits that
`Tab` (tests/e2e/async_tab.py) shares, idle, title and health, are written once in
tests/e2e/waits.py.

This module, tests/e2e/server.py and tests/e2e/browser.py are what the benchmarks
import; tests/e2e/conftest.py holds only the fixtures.
"""

from __future__ import annotations

import math
import re
import time
import weakref
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qsl, urlsplit

from tests.e2e.waits import healthy, idle, run_sync, title_shown, until
from tests.e2e.wire import Wire
from tests.test_architecture import EXPECTED_PAGES

VIEWPORT = {"width": 1400, "height": 1000}
# Generous: the first run of a page compiles its JAX functions on a busy 2-core machine.
LOAD_TIMEOUT_MS = 180_000
ACTION_TIMEOUT_MS = 90_000

try:
    from playwright.sync_api import expect

    expect.set_options(timeout=ACTION_TIMEOUT_MS)  # Playwright's default, 5 s, is for idle machines
except ImportError:  # the e2e fixtures skip (or fail) with the reason
    expect = None

# Counts the script runs a tab has started, as the DOM shows them: each change of
# stApp's data-test-script-state to "running" adds one to <html data-vmap-runs-started>.
# A MutationObserver sees every change, also a run that started and ended between
# two of Playwright's polls, so a test can wait for "a run started since X" with an
# auto-waiting expect on that attribute. Runs in every document the tab loads.
COUNT_RUNS_JS = """(() => {
  const name = 'data-test-script-state', attr = 'data-vmap-runs-started';
  let started = 0;
  // <html> may not exist yet when this runs: show the count once it does.
  const show = () => document.documentElement?.setAttribute(attr, String(started));
  show();
  document.addEventListener('readystatechange', show);
  new MutationObserver(records => records.forEach((r, i) => {
    // The value after this change: the next record's old value, else the current one.
    const now = i + 1 < records.length ? records[i + 1].oldValue : r.target.getAttribute(name);
    if (now === 'running' && r.oldValue !== 'running') {
      started += 1;
      show();
    }
  })).observe(document, {subtree: true, attributes: true, attributeFilter: [name], attributeOldValue: true});
})();"""

# The tabs that run COUNT_RUNS_JS in every document they load (a tab used again by a
# later `AppPage` already does).
_COUNTING: "weakref.WeakSet[Any]" = weakref.WeakSet()

# {page file: url path}, in menu order: the list written out in tests/test_architecture.py
# (not read from the app, so a page that goes missing fails its test here).
APP_PAGES: dict[str, str] = dict(EXPECTED_PAGES)
HOME_PAGE = next(iter(APP_PAGES))


def page_url_path(page_file: str) -> str:
    """The address of a page: the default page (the first) is served at "/"."""
    return "" if page_file == HOME_PAGE else APP_PAGES[page_file]


def warm_up(server: Any, tabs: Any) -> None:
    """One visit to the main page in a new tab of `tabs` (a browser or a context): compiles
    the JAX functions the pages share, so that what comes next does not pay for it."""
    page = tabs.new_page()
    try:
        AppPage(page, server.url).open()
    finally:
        page.close()


class AppPage:
    """A tab on the app, with Streamlit-aware waits and widget moves.

    Attributes:
      page: the Playwright page. errors: uncaught JavaScript errors seen.
      dialogs: alert/confirm/prompt dialogs opened (and dismissed).
      wire: the rerun requests sent and the runs' starts and ends received (`Wire`).
    """

    def __init__(self, page: Any, base_url: str) -> None:
        self.page, self.base_url = page, base_url
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.wire = Wire()

        def on_dialog(dialog: Any) -> None:
            self.dialogs.append(f"{dialog.type}: {dialog.message}")
            dialog.dismiss()

        self._handlers = {"pageerror": lambda err: self.errors.append(str(err)),
                          "dialog": on_dialog, "websocket": self.wire.attach}
        for event, handler in self._handlers.items():
            page.on(event, handler)
        page.set_default_timeout(ACTION_TIMEOUT_MS)
        if page not in _COUNTING:  # once per tab: a tab used again keeps its script
            page.add_init_script(script=COUNT_RUNS_JS)
            _COUNTING.add(page)

    def detach(self) -> None:
        """Stop listening to the tab (its errors, dialogs and websockets), so that the
        tab can serve another `AppPage`: a new visitor, once it has left the app."""
        for event, handler in self._handlers.items():
            self.page.remove_listener(event, handler)

    # the areas of the screen

    @property
    def main(self) -> Any:
        return self.page.get_by_test_id("stMain")

    @property
    def sidebar(self) -> Any:
        return self.page.get_by_test_id("stSidebar")

    # navigation and waits

    def open(self, path: str = "", query: str = "", timeout_ms: int = LOAD_TIMEOUT_MS) -> "AppPage":
        """Load `/<path>?<query>` and wait until the script has run."""
        url = f"{self.base_url}/{path}" + (f"?{query}" if query else "")
        self.page.goto(url, wait_until="domcontentloaded")
        self.wait_idle(timeout_ms)
        return self

    def open_page(self, page_file: str, query: str = "", **kw: Any) -> "AppPage":
        return self.open(page_url_path(page_file), query, **kw)

    def wait_idle(self, timeout_ms: int = ACTION_TIMEOUT_MS, quiet_ms: int = 400) -> None:
        """Wait until the app is idle: every rerun request this tab sent answered by a
        whole run, the run over, nothing loading, every chart drawn, and still so after
        `quiet_ms` (`waits.idle`, the conditions `Tab.wait_idle` waits for too)."""
        run_sync(idle(self.page, self.wire, expect, timeout_ms, quiet_ms))

    def wait_until(self, check: Callable[[], bool], what: str, timeout_ms: int = ACTION_TIMEOUT_MS) -> None:
        """Wait until `check()` holds, for state that Playwright's event handlers update
        (`waits.until`); AssertionError naming `what` after `timeout_ms`."""
        deadline = time.monotonic() + timeout_ms / 1000
        run_sync(until(self.page, check, deadline, lambda: f"{what} within {timeout_ms} ms"))

    def runs_started(self) -> str:
        """How many script runs this document has started so far (COUNT_RUNS_JS), as text."""
        return self.page.locator("html").get_attribute("data-vmap-runs-started")

    def wait_for_a_run_since(self, runs_started: str, timeout_ms: int) -> None:
        """Wait until a run has started since `runs_started` was read (it may be over
        already); raises AssertionError after `timeout_ms` if none did."""
        expect(self.page.locator("html")).not_to_have_attribute(
            "data-vmap-runs-started", runs_started, timeout=timeout_ms)

    def wait_for_text(self, text: str, timeout_ms: int = ACTION_TIMEOUT_MS) -> None:
        """Wait until the main area shows `text`, then for the run to finish."""
        expect(self.main).to_contain_text(text, timeout=timeout_ms)
        self.wait_idle(timeout_ms)

    def wait_for_title(self, title: str) -> None:
        """Wait until the page's title (its one h1) reads `title`, then for the run."""
        run_sync(title_shown(self.page, self.wire, expect, title, ACTION_TIMEOUT_MS))

    def wait_for_query(self, key: str, value: str) -> None:
        """Wait until the address bar holds `key=value` (the app writes its state there)."""
        self.page.wait_for_url(lambda url: dict(parse_qsl(urlsplit(url).query)).get(key) == value)
        self.wait_idle()

    # reading the screen

    def main_text(self) -> str:
        return self.main.inner_text()

    def summary(self) -> Any:
        """The page's summary line (its first markdown), as a locator."""
        return self.main.get_by_test_id("stMarkdown").first

    def first_markdown(self) -> str:
        """The page's summary line, e.g. 'Blobs: N = 400 points in D = 2 dimensions, float32…'."""
        return self.summary().inner_text()

    def wait_for_summary(self, start: str) -> None:
        """Wait until the summary line starts with `start`, then for the run."""
        expect(self.summary()).to_have_text(re.compile("^" + re.escape(start)))
        self.wait_idle()

    def exceptions(self) -> list[str]:
        return [t[:1500] for t in self.page.get_by_test_id("stException").all_inner_texts()]

    def warnings(self) -> list[str]:
        return self.main.get_by_test_id("stAlertContentWarning").all_inner_texts()

    def errors_shown(self) -> list[str]:
        return self.page.get_by_test_id("stAlertContentError").all_inner_texts()

    def modals(self) -> list[str]:
        """Streamlit's own pop-ups on the page (e.g. "Page not found")."""
        return self.page.get_by_role("dialog").all_inner_texts()

    def nav_addresses(self) -> list[str]:
        """The addresses the sidebar's page menu links to, in order ("" for "/")."""
        links = self.sidebar.get_by_test_id("stSidebarNavLink")
        expect(links.first).to_be_visible()
        return [urlsplit(links.nth(i).get_attribute("href")).path.strip("/") for i in range(links.count())]

    def go_to(self, title: str) -> None:
        """Click the page `title` in the sidebar's menu and wait until it is drawn."""
        self.sidebar.get_by_role("link", name=title).click()
        self.wait_for_title(title)

    def plots(self) -> list[dict[str, Any]]:
        """Every drawn Plotly chart: its title, trace types, points drawn, and a
        fingerprint of its data (changes when any value changes)."""
        return self.page.get_by_test_id("stPlotlyChart").locator(".js-plotly-plot").evaluate_all(
            """graphs => graphs.map(g => {
                    const t = g.layout && g.layout.title;
                    const full = g._fullData || [];
                    const size = a => (a && a.length) || 0;
                    return {
                        title: ((t && (t.text || t)) || '').toString().replace(/<[^>]*>/g, ''),
                        types: full.map(d => d.type),
                        points: full.reduce((s, d) => s + Math.max(size(d.x), size(d.y), size(d.z),
                                                                   size(d.values)), 0),
                        traces: full.map(d => Math.max(size(d.x), size(d.y))),
                        fingerprint: JSON.stringify(g.data),
                        visible: g.getBoundingClientRect().height > 0,
                    };
                })""")

    def plot(self, title_start: str) -> dict[str, Any]:
        found = [p for p in self.plots() if p["title"].startswith(title_start)]
        assert found, f"no chart titled {title_start!r}: {[p['title'] for p in self.plots()]}"
        return found[0]

    def gram_heatmap(self) -> dict[str, Any]:
        """The Gram explorer's K as the user sees it, like `plot`'s entries: its title
        ("K, gamma = <g>"), the N of the matrix, and a fingerprint that changes when any
        value drawn changes. The live canvas once it shows the exact K, where the page
        has one (RBF-like kernels), else the Plotly heatmap titled "K, gamma =".
        """
        canvas = self.page.locator("canvas.heatmap")
        if not canvas.count():
            return self.plot("K, gamma =")
        expect(canvas).to_have_attribute("data-shown", "exact")
        return {"title": f"K, gamma = {float(canvas.get_attribute('data-gamma')):.3g}",
                "points": int(canvas.get_attribute("data-points")),
                "fingerprint": canvas.evaluate("c => c.toDataURL()")}

    def kernel_histogram(self) -> dict[str, Any]:
        """The histogram of K's off-diagonal values: the live canvas's where the page has
        one (drawn with the heatmap), else the Plotly chart; with a fingerprint."""
        hist = self.page.locator("canvas.hist")
        if not hist.count():
            return self.plot("Kernel values off the diagonal")
        expect(self.page.locator("canvas.heatmap")).to_have_attribute("data-shown", "exact")
        return {"fingerprint": hist.evaluate("c => c.toDataURL()")}

    def heatmap_title(self) -> str:
        return self.gram_heatmap()["title"]

    def query(self) -> dict[str, str]:
        return dict(parse_qsl(urlsplit(self.page.url).query))

    # moving widgets as a user does

    def gamma_input(self) -> Any:
        """The gamma slider (the one beside the page's chart first, else the sidebar's)."""
        main = self.main.get_by_role("slider", name="gamma (log scale)")
        return main.first if main.count() else self.page.get_by_role("slider", name="gamma (log scale)").first

    def gamma_shown(self) -> str:
        """The gamma the slider shows to 3 significant digits, as the sidebar's does ("0.631";
        the live slider says "gamma = 0.6310")."""
        return f'{float(self.gamma_input().get_attribute("aria-valuetext").removeprefix("gamma = ")):.3g}'

    def press_slider(self, slider: Any, key: str) -> str:
        """Focus `slider`, press `key`, wait until it shows another value and the run
        is over; return the value shown."""
        before = slider.get_attribute("aria-valuetext")
        slider.focus()
        self.page.keyboard.press(key)
        expect(slider).not_to_have_attribute("aria-valuetext", before)
        return slider.get_attribute("aria-valuetext").removeprefix("gamma = ")

    def wait_gamma_drawn(self) -> None:
        """The live heatmap: wait until it draws the exact K of the value its slider says
        (a release reruns the page's fragment; at the data's default gamma the URL
        leaves gamma out, so the URL cannot tell)."""
        canvas = self.page.locator("canvas.heatmap")
        expect(canvas).to_have_attribute("data-gamma-text",
                                         self.gamma_input().get_attribute("aria-valuetext"))
        expect(canvas).to_have_attribute("data-shown", "exact")
        self.wait_idle()

    def press_gamma(self, key: str = "ArrowRight") -> str:
        """Press `key` on the gamma slider, wait for the run; return the new value."""
        slider = self.gamma_input()
        shown = self.press_slider(slider, key)
        if self.page.locator("canvas.heatmap").count():
            self.wait_gamma_drawn()
            return self.gamma_shown()

        # The run has happened once the URL (synced by the app) holds the new gamma.
        def synced(url: str) -> bool:
            value = dict(parse_qsl(urlsplit(url).query)).get("gamma")
            try:
                return abs(math.log10(float(value)) - math.log10(float(shown))) < 0.01
            except (TypeError, ValueError):
                return False

        self.page.wait_for_url(synced)
        self.wait_idle()
        return self.gamma_shown()

    def select(self, label: str, option: str) -> None:
        """Choose `option` (its shown text) in the selectbox labelled `label`."""
        box = self.page.get_by_role("combobox", name=label).first
        listbox = self.page.get_by_test_id("stSelectboxVirtualDropdown")
        for attempt in range(3):
            # The dropdown closes when its container scrolls: scroll first, then open.
            # click() waits until the box stands still for two frames, so the scroll
            # (and the scroll event that would close the list) is over by then.
            box.scroll_into_view_if_needed()
            box.click()
            try:
                expect(listbox).to_be_visible(timeout=5_000)
                break
            except AssertionError:
                if attempt == 2:
                    raise
        # Typing filters the (virtualised) list, so the option is drawn wherever it is.
        box.fill(option)
        listbox.get_by_role("option", name=option, exact=True).first.click()
        expect(box).to_have_value(option)
        self.wait_idle()

    def selected(self, label: str) -> str:
        """The option shown by the selectbox labelled `label` (exactly, where one is: the
        Fit page's "Data" is not the sidebar's "Dataset")."""
        exact = self.page.get_by_role("combobox", name=label, exact=True)
        box = exact if exact.count() else self.page.get_by_role("combobox", name=label)
        return box.first.input_value()

    def radio(self, label: str, option: str, where: str = "stSidebar") -> None:
        """Choose `option` in the radio group labelled `label` (in the sidebar unless
        `where` names another area, e.g. "stMain")."""
        group = self.page.get_by_test_id(where).get_by_role("radiogroup", name=label)
        group.locator("label").filter(has_text=re.compile(f"^{re.escape(option)}$")).first.click()
        expect(group.get_by_role("radio", name=option, exact=True)).to_be_checked()
        self.wait_idle()

    def checked(self, label: str, where: str = "stSidebar") -> str:
        """The option checked in the radio group labelled `label`."""
        group = self.page.get_by_test_id(where).get_by_role("radiogroup", name=label)
        return group.locator("label").filter(has=self.page.locator("input:checked")).inner_text().strip()

    def button(self, text: str) -> Any:
        """The page's button named `text` (the header's own Stop button is not one)."""
        return self.main.get_by_role("button", name=text, exact=True)

    def transitions_done(self, locator: Any) -> None:
        """Wait until the CSS transitions running in `locator` and its descendants (e.g.
        the sidebar sliding open) have ended: the browser's own Animation.finished."""
        locator.evaluate("""e => Promise.all(e.getAnimations({subtree: true})
            .filter(a => a instanceof CSSTransition).map(a => a.finished.catch(() => null)))""")

    # health and screenshots

    def assert_healthy(self) -> None:
        """No Python exception on screen, no JS error, no dialog or Streamlit pop-up,
        still connected (`waits.healthy`)."""
        run_sync(healthy(self.page, self.errors, self.dialogs))

    def screenshot(self, path: Path) -> None:
        """The whole page (the main area scrolls inside the window): grow the
        viewport to the content's height, shoot, restore."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self.page.mouse.move(0, 0)  # no hover tooltip in the picture
        heights = [self.main.evaluate("e => e.scrollHeight")]
        content = self.page.get_by_test_id("stSidebarContent")
        if content.count():
            heights.append(content.evaluate("e => e.scrollHeight"))
        height = max(heights)
        self.page.set_viewport_size({"width": VIEWPORT["width"], "height": min(max(height, VIEWPORT["height"]), 8000)})
        try:
            # Charts re-lay out to the new size. No attribute or event marks the end of a
            # re-layout (Plotly redraws from a resize handler, over a few frames): pause.
            self.page.wait_for_timeout(300)
            self.wait_idle()
            self.page.screenshot(path=str(path), full_page=True, animations="disabled")
        finally:
            self.page.set_viewport_size(VIEWPORT)
