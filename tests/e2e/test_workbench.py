"""The Workbench in Chromium: an honest kernel typed in the box and dragged live, a hostile
one refused without harm, and a shared link that opens the same kernel and numbers.

The heatmap is read as a user sees it: its canvas's pixels and state, its tooltip.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, quote, urlsplit

import pytest
from playwright.sync_api import expect

from tests.e2e.app_page import AppPage

pytestmark = pytest.mark.e2e

PAGE = "workbench.py"
BOX = "Your kernel, for one pair of vectors: k(params, x, y)"
LAPLACIAN = ("def kernel(params, x, y):\n"
             "    return np.exp(-params['gamma'] * np.sum(np.abs(x - y)))\n")
SCALED = ("def kernel(params, x, y):\n"
          "    return params['amp'] * np.exp(-params['gamma'] * np.sum((x - y) ** 2))\n")


def canvas(app):
    return app.page.locator("canvas.heatmap")


def box(app):
    return app.main.get_by_role("textbox", name=BOX)


def type_source(app, text: str) -> None:
    """Replace the box's text as a user does, and commit it (Ctrl+Enter)."""
    box(app).fill(text)
    box(app).press("Control+Enter")
    app.wait_idle(120_000)


def query(app) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(app.page.url).query))


def test_a_typed_kernel_is_drawn_and_follows_a_gamma_drag(app):
    app.open_page(PAGE, "n=200", timeout_ms=180_000)
    type_source(app, LAPLACIAN)
    expect(canvas(app)).to_have_attribute("data-shown", "exact", timeout=60_000)
    assert query(app)["source"] == LAPLACIAN  # the address bar carries the kernel
    before = canvas(app).evaluate("c => c.toDataURL()")
    slider = app.page.get_by_role("slider", name=re.compile("gamma"))
    b = slider.bounding_box()
    y = b["y"] + b["height"] / 2
    app.page.mouse.move(b["x"] + b["width"] * 0.55, y)
    app.page.mouse.down()
    app.page.mouse.move(b["x"] + b["width"] * 0.62, y, steps=4)
    expect(canvas(app)).to_have_attribute("data-shown", "preview")
    assert canvas(app).evaluate("c => c.toDataURL()") != before  # redrawn before release
    app.page.mouse.up()
    gamma = canvas(app).get_attribute("data-gamma")
    app.page.wait_for_url(lambda url: "gamma=" in url)
    expect(canvas(app)).to_have_attribute("data-shown", "exact", timeout=60_000)
    assert float(query(app)["gamma"]) == pytest.approx(float(gamma), rel=0.2)
    assert not app.exceptions()


def test_a_hostile_kernel_is_refused_and_the_page_keeps_working(app):
    app.open_page(PAGE, "n=120", timeout_ms=180_000)
    hostile = ("def kernel(params, x, y):\n"
               "    return x.__class__.__bases__[0].__subclasses__()\n")
    type_source(app, hostile)
    expect(app.main.get_by_text("This kernel cannot run in the workbench")).to_be_visible()
    shown = app.main.get_by_test_id("stCode").all_inner_texts()
    assert any("__class__" in t and "Line 2" in t for t in shown), shown
    assert box(app).input_value() == hostile  # nothing the user had is lost
    assert not app.exceptions()
    type_source(app, LAPLACIAN)  # and an honest kernel runs again
    expect(canvas(app)).to_have_attribute("data-shown", "exact", timeout=60_000)


def test_a_shared_link_opens_the_same_kernel_and_the_same_numbers(app, context_factory, server):
    app.open_page(PAGE, f"n=150&dataset=Two+moons&source={quote(SCALED)}&wb_amp=2",
                  timeout_ms=180_000)
    expect(canvas(app)).to_have_attribute("data-shown", "exact", timeout=60_000)
    slider = app.main.get_by_role("slider", name="params['amp']")
    slider.focus()
    slider.press("ArrowLeft")  # 2 → 1.5: the URL says exactly what the slider shows
    app.page.wait_for_url(lambda url: "wb_amp=1.5" in url)
    app.wait_idle(120_000)
    expect(canvas(app)).to_have_attribute("data-shown", "exact", timeout=60_000)
    pixels = canvas(app).evaluate("c => c.toDataURL()")
    link = app.page.url
    other = AppPage(context_factory().new_page(), server.url)
    other.page.goto(link, wait_until="domcontentloaded")
    other.wait_idle(180_000)
    expect(canvas(other)).to_have_attribute("data-shown", "exact", timeout=60_000)
    assert box(other).input_value() == SCALED
    expect(other.main.get_by_role("slider", name="params['amp']")).to_have_attribute("aria-valuetext", "1.5")
    assert canvas(other).evaluate("c => c.toDataURL()") == pixels
