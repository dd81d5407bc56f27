"""The e2e tests' waiting conditions, written once for Playwright's sync and async APIs.

A condition is a generator that yields every Playwright call it makes
(`locator.count()`, `expect(locator).to_have_attribute(...)`, `page.wait_for_timeout(...)`)
and is sent back what the call returned. Under the sync API the call has already run
and what it yielded is its result; under the async API it is a coroutine, which the
driver awaits. `run_sync` drives a condition for `AppPage` (tests/e2e/app_page.py),
`run_async` for `Tab` (tests/e2e/async_tab.py), so both wait for the same things:

    run_sync(idle(page, wire, expect, timeout_ms))          # sync API's expect
    await run_async(idle(page, wire, expect, timeout_ms))   # async API's expect

Waits are Playwright's own auto-retrying `expect(locator)...`, as in Streamlit's
e2e_playwright suite. Two waits have no such condition and pause instead, each saying
why: a Python-side state fed by Playwright's events (`until`), and "still so a moment
later" (`idle`'s quiet period).
"""

from __future__ import annotations

import inspect
import time
from typing import Any, Callable, Generator, TypeVar

__all__ = ["Steps", "healthy", "idle", "run_async", "run_sync", "settled", "title_shown", "until"]

T = TypeVar("T")
# Yields Playwright calls (or their coroutines), is sent their results, returns a T.
Steps = Generator[Any, Any, T]


def run_sync(steps: Steps[T]) -> T:
    """Drive a condition with Playwright's sync API: each call has already run."""
    try:
        result = next(steps)
        while True:
            result = steps.send(result)
    except StopIteration as done:
        return done.value


async def run_async(steps: Steps[T]) -> T:
    """Drive a condition with Playwright's async API: await each call it yields, and
    raise a failed call's error inside the condition, where the sync API raises it."""
    try:
        call = next(steps)
        while True:
            try:
                result = await call if inspect.isawaitable(call) else call
            except Exception as err:  # noqa: BLE001 - handed to the condition, which re-raises
                call = steps.throw(err)
            else:
                call = steps.send(result)
    except StopIteration as done:
        return done.value


def until(page: Any, check: Callable[[], bool], deadline: float,
          message: Callable[[], str]) -> Steps[None]:
    """Wait until `check()` holds; AssertionError with `message()` at `deadline`
    (time.monotonic()).

    For Python-side state that Playwright's event handlers update (the websocket's
    frames: `Wire`, a routed websocket): no `expect` reads it, and the sync API runs
    those handlers only while one of its calls waits. So this waits 50 ms inside
    Playwright (the handlers run meanwhile) and looks again.
    """
    while not check():
        assert time.monotonic() < deadline, message()
        yield page.wait_for_timeout(50)


def _busy(page: Any) -> list[Any]:
    """What shows that a run is not over yet: the running indicator, an element still
    loading its code, a Plotly chart not drawn yet."""
    return [page.get_by_test_id("stStatusWidget"), page.get_by_test_id("stSkeleton"),
            page.get_by_test_id("stPlotlyChart").filter(has_not=page.locator(".js-plotly-plot .main-svg"))]


def settled(page: Any, wire: Any) -> Steps[bool]:
    """Whether the tab is idle at this moment, by one look (no waiting): `idle`'s
    conditions. For a benchmark that times when they first hold (benchmarks/first_visit.py)."""
    if not wire.answered():
        return False
    app = page.get_by_test_id("stApp")
    if (yield app.get_attribute("data-test-connection-state")) != "CONNECTED":
        return False
    if (yield app.get_attribute("data-test-script-state")) != "notRunning":
        return False
    for locator in _busy(page):
        if (yield locator.count()):
            return False
    return True


def idle(page: Any, wire: Any, expect: Any, timeout_ms: int, quiet_ms: int = 400) -> Steps[None]:
    """Wait until the app is idle in this tab.

    Every rerun request the tab sent is answered by a run that started after it and ran
    to its end (`Wire.answered`: the browser shows "not running" from the moment a
    request leaves until the server starts its run, on a loaded server a second or
    more); connected, the script run over (Streamlit's own data-test-* state on stApp,
    as its e2e suite waits), no running indicator, no element still loading its code,
    every Plotly chart drawn; and all still so after `quiet_ms` (`settled`, and as many
    elements as before). No condition says "nothing more is coming": the browser may
    send a request, or draw what it received (a component's value), a moment after the
    run's end reached it, so the quiet period is a pause, then a second look.
    """
    app = page.get_by_test_id("stApp")
    elements = page.locator("[data-testid]")
    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        yield from until(page, wire.answered, deadline, lambda: (
            f"the server did not answer a rerun request within {timeout_ms} ms; "
            f"websocket, last messages (> sent, < received):\n{wire.tail()}"))
        left = max(1_000, int((deadline - time.monotonic()) * 1000))
        yield expect(app).to_have_attribute("data-test-connection-state", "CONNECTED", timeout=left)
        yield expect(app).to_have_attribute("data-test-script-state", "notRunning", timeout=left)
        for locator in _busy(page):
            yield expect(locator).to_have_count(0, timeout=left)
        shape = yield elements.count()
        yield page.wait_for_timeout(quiet_ms)
        if (yield from settled(page, wire)) and (yield elements.count()) == shape:
            return
        assert time.monotonic() < deadline, f"the app did not settle within {timeout_ms} ms"


def title_shown(page: Any, wire: Any, expect: Any, title: str, timeout_ms: int) -> Steps[None]:
    """Wait until the page's title (its one h1) reads `title`, then until it is idle."""
    main = page.get_by_test_id("stMain")
    yield expect(main.get_by_role("heading", level=1).first).to_have_text(title, timeout=timeout_ms)
    yield from idle(page, wire, expect, timeout_ms)


def healthy(page: Any, errors: list[str], dialogs: list[str]) -> Steps[None]:
    """No Python exception on screen, no JavaScript error, no dialog (`errors`, `dialogs`:
    what the tab's handlers saw) or Streamlit pop-up, still connected."""
    shown = yield page.get_by_test_id("stException").all_inner_texts()
    assert shown == [], [text[:1500] for text in shown]
    assert errors == [], errors
    assert dialogs == [], dialogs
    modals = yield page.get_by_role("dialog").all_inner_texts()
    assert modals == [], modals
    state = yield page.get_by_test_id("stApp").get_attribute("data-test-connection-state")
    assert state == "CONNECTED", state
