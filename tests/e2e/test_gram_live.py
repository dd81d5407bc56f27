"""The live Gram heatmap in Chromium: it follows gamma while the mouse is still down,
the released gamma reaches the URL, and the exact K shown is core's K.

The canvas is read as a user sees it (its pixels, its tooltip's numbers); the
slider is found by role and accessible name, as a screen reader finds it.
"""

from __future__ import annotations

import re
from urllib.parse import quote

import numpy as np
import pytest
from playwright.sync_api import expect

from core.data import load_dataset
from core.dense.methods import METHODS, sqdist_for
from core.kernels import KERNELS
from core.kernels.profiles import DISTANCE_PROFILES
from core.scale.summary import cell_summary, decode_rules, preview_from_rules
from core.lessons.projection import pca_2d
from ui.state.settings import grid_label

pytestmark = pytest.mark.e2e

PAGE = "gram.py"


def slider(app):
    return app.page.get_by_role("slider", name=re.compile("gamma"))


def canvas(app):
    return app.page.locator("canvas.heatmap")


def pixels(app) -> str:
    return canvas(app).evaluate("c => c.toDataURL()")


def open_live(app, query: str = "n=400"):
    app.open_page(PAGE, query)
    expect(canvas(app)).to_have_attribute("data-shown", "exact")
    return app


def test_heatmap_changes_between_steps_before_the_mouse_is_released(app):
    open_live(app)
    box = slider(app).bounding_box()
    y = box["y"] + box["height"] / 2
    x = box["x"] + box["width"] * float(slider_fraction(app))
    app.page.mouse.move(x, y)
    app.page.mouse.down()
    before, frames = pixels(app), int(canvas(app).get_attribute("data-frames"))
    for step in range(1, 5):
        app.page.mouse.move(x + 12 * step, y, steps=2)
        expect(canvas(app)).not_to_have_attribute("data-frames", str(frames))
        frames = int(canvas(app).get_attribute("data-frames"))
        now = pixels(app)
        assert now != before, f"the heatmap did not change at drag step {step}"
        expect(canvas(app)).to_have_attribute("data-shown", "preview")  # still dragging
        before = now
    app.page.mouse.up()
    expect(canvas(app)).to_have_attribute("data-shown", "exact", timeout=60_000)
    released = slider(app).get_attribute("aria-valuenow")
    # The bound control writes the grid's own 4 digits, as the slider shows them.
    expect(app.page).to_have_url(re.compile(r"[?&]gamma=" + re.escape(grid_label(float(released))) + "(&|$)"))
    assert app.exceptions() == [] and app.errors == []


def slider_fraction(app) -> float:
    value = float(slider(app).get_attribute("aria-valuenow"))
    return (np.log10(value) + 6) / 10 * (1 - 16 / slider(app).bounding_box()["width"]) + 8 / slider(
        app).bounding_box()["width"]


def test_arrow_keys_home_and_end_move_gamma_and_reach_the_url(app):
    open_live(app)
    s = slider(app)
    start_text = s.get_attribute("aria-valuenow")
    start = float(start_text)
    s.focus()
    s.press("ArrowRight")
    expect(s).not_to_have_attribute("aria-valuenow", start_text)  # the key acts asynchronously
    expect(s).to_have_attribute("aria-valuetext", re.compile(r"gamma = "))
    moved = float(s.get_attribute("aria-valuenow"))
    assert moved == pytest.approx(start * 10 ** 0.05, rel=2e-3)  # one step: 1/20 decade
    expect(canvas(app)).to_have_attribute("data-shown", "exact", timeout=60_000)
    expect(app.page).to_have_url(re.compile(r"[?&]gamma=" + re.escape(f"{moved:.3g}")))
    s.press("Home")
    expect(s).to_have_attribute("aria-valuenow", "0.000001")
    s.press("End")
    expect(s).to_have_attribute("aria-valuenow", "10000")
    expect(app.page).to_have_url(re.compile(r"[?&]gamma=1e(\+|%2B)04"), timeout=60_000)
    app.button("Reset gamma to the median heuristic").click()
    expect(s).to_have_attribute("aria-valuenow", repr(start).removesuffix(".0"), timeout=60_000)
    expect(canvas(app)).to_have_attribute("data-shown", "exact", timeout=60_000)
    assert "gamma" not in app.query()


def test_exact_K_after_release_is_cores_K(app):
    open_live(app, "n=300&dataset=Two%20moons&gamma=2")
    expect(slider(app)).to_have_attribute("aria-valuenow", "1.995")  # 2 snapped to the log grid
    box = canvas(app).bounding_box()
    X, y = load_dataset("moons", n=300, seed=0, noise=0.1)
    K = METHODS["auto"].compute(X, None, 1.995)
    for fx, fy in [(0.35, 0.6), (0.7, 0.3), (0.5, 0.52)]:
        app.page.mouse.move(box["x"] + 52 + fx * (box["width"] - 130), box["y"] + 34 + fy * (box["width"] - 130))
        tip = app.page.locator(".tip")
        expect(tip).to_be_visible()
        text = tip.inner_text()
        i, j = (int(v) for v in re.findall(r"[ij] = (\d+)", text))
        k = float(re.search(r"k = ([-\d.e+]+) \(exact\)", text).group(1))
        # The tooltip shows 4 significant digits of float32 K: half a unit in the 4th digit.
        assert k == pytest.approx(float(K[i, j]), rel=5e-4, abs=1e-12), text
        assert "gamma = 1.995" in text


def test_periodic_kernel_says_why_it_has_no_live_preview(app):
    app.open_page(PAGE, "n=100&kernel=Periodic")
    assert "No live preview while dragging" in app.main_text()
    assert canvas(app).count() == 0


def test_clicking_a_cell_highlights_both_points_in_the_scatter(app):
    open_live(app, "n=200&dataset=Two%20moons")
    box = canvas(app).bounding_box()
    plot = box["width"] - 130  # the canvas's plot area: 52 px left, 78 px right (live_heatmap.js)
    # The centre of cell (row 140, col 59): a click's integer coordinates stay in it.
    x, y = box["x"] + 52 + 59.5 / 200 * plot, box["y"] + 34 + 140.5 / 200 * plot
    app.page.mouse.move(x, y)
    text = app.page.locator(".tip").inner_text()
    assert "(row 140)" in text and "(col 59)" in text, text
    i, j = (int(v) for v in re.findall(r"[ij] = (\d+)", text))
    app.page.mouse.click(x, y)
    app.wait_idle()  # the click's run, and the full rerun that redraws the scatter
    scatter = app.page.evaluate(
        """() => Array.from(document.querySelectorAll('.js-plotly-plot'))
            .map(g => (g.data || []).find(t => t.name === 'selected')).find(t => t)""")
    X, _ = load_dataset("moons", n=200, seed=0, noise=0.1)
    Z, _ = pca_2d(X)  # the scatter's coordinates
    shown = sorted(zip(np.round(np_array(scatter["x"]), 4), np.round(np_array(scatter["y"]), 4)))
    expected = sorted({tuple(np.round(Z[p].astype(float), 4)) for p in (i, j)})
    assert shown == expected, (text, shown, expected)


def np_array(values) -> np.ndarray:
    """A Plotly trace's coordinates, whether a list or a typed array ({dtype, bdata})."""
    if isinstance(values, dict):
        import base64
        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"]).astype(float)
    return np.asarray(values, float)


@pytest.mark.parametrize("kernel", ["rbf", "matern32", "rational_quadratic"])
def test_browser_preview_of_pooled_cells_equals_cores_preview(app, kernel):
    # The JavaScript twin of core.scale.summary.preview_from_rules, read from the
    # component while it previews (dragging), at N = 1,200 (400 × 400 cells of 3 × 3).

    label = quote(KERNELS[kernel].label)  # a bound selectbox takes its label from the URL
    open_live(app, f"n=1200&dataset=Uniform%20square&kernel={label}&alpha=0.5")
    gamma = float(slider(app).get_attribute("aria-valuenow"))
    got = app.page.evaluate(
        """() => { const v = window.__vmapLiveGram.view; v.dragging = true; v.compute();
                   const out = Array.from(v.values); v.dragging = false; v.request();
                   return {values: out, alpha: v.alpha, x: Array.from(v.D.x), w: Array.from(v.D.w)}; }""")
    shown = np.asarray(got["values"]).reshape(400, 400)
    X, _ = load_dataset("uniform", n=1200, seed=0)
    S = sqdist_for("jit_method1" if kernel != "rbf" else "auto", X)
    params = {"alpha": got["alpha"]}  # the sidebar's alpha, snapped to its log grid (≈ 0.5)
    # The rules the browser decoded are core's for these distances, as core decodes
    # them (float16 × float32 scale rounded to float32; w_4 = 1 − the others): equal.
    summary = cell_summary(S, 3)
    x, w = decode_rules(summary.codes[np.triu_indices(400)], summary.scale)
    bx, bw = np.asarray(got["x"]).reshape(-1, 4), np.asarray(got["w"]).reshape(-1, 4)
    np.testing.assert_array_equal(bx, x)
    np.testing.assert_array_equal(bw, w)
    # And the browser's preview from them is core's preview_from_rules to float32
    # storage (values in [0, 1] round by at most 2⁻²⁵; Math.exp and NumPy's exp agree
    # to an ulp of float64).
    nodes, weights = np.zeros((400, 400, 4), np.float32), np.zeros((400, 400, 4))
    r, c = np.triu_indices(400)
    nodes[r, c] = nodes[c, r] = bx
    weights[r, c] = weights[c, r] = bw
    expected = preview_from_rules(nodes, weights, 1200, 3, DISTANCE_PROFILES[kernel].fn, gamma, params)
    np.testing.assert_allclose(shown, expected, rtol=0, atol=2.0**-24)


def test_hovering_a_pooled_cell_names_its_rows_columns_and_mean_k(app):
    """At N = 4,000 each cell pools 9 × 9 points: its hover says which rows and columns, and
    their mean k (the exact block mean after release, the rule's estimate while dragging),
    not the rule's nodes and weights."""
    open_live(app, "n=4000")
    gamma = float(slider(app).get_attribute("aria-valuenow"))
    box = canvas(app).bounding_box()
    plot = box["width"] - 130  # the canvas's plot area: 52 px left, 78 px right (live_heatmap.js)
    side, f = 445, 9  # ceil(4000 / 448) = 9 points a cell side, 445 cells
    row, col = 50, 300
    x, y = box["x"] + 52 + (col + 0.5) / side * plot, box["y"] + 34 + (row + 0.5) / side * plot
    app.page.mouse.move(x, y)
    tip = app.page.locator(".tip")
    expect(tip).to_be_visible()
    head, how = tip.inner_text().split("\n", 1)
    match = re.fullmatch(r"rows (\d+)–(\d+) × cols (\d+)–(\d+) \((\d+)×(\d+) points pooled\), "
                         r"mean k = ([\d.e+-]+)", head)
    assert match, head
    r0, r1, c0, c1, pr, pc = (int(v) for v in match.groups()[:6])
    assert (r0, r1, c0, c1, pr, pc) == (row * f, row * f + 8, col * f, col * f + 8, 9, 9)
    assert "exact block mean" in how and "node" not in head and "weight" not in head
    X, labels = load_dataset("blobs", n=4000, seed=0, noise=0.1)
    order = np.argsort(labels, kind="stable")  # the heatmap's rows: ordered by label
    S = sqdist_for("auto", X)[np.ix_(order, order)]
    exact = float(np.exp(-gamma * S[r0:r1 + 1, c0:c1 + 1].astype(np.float64)).mean())
    assert float(match.group(7)) == pytest.approx(exact, rel=5e-3, abs=5e-4), (head, exact)

    # While dragging, the same cell's estimate from its rule, said to be one.
    app.page.evaluate("() => { const v = window.__vmapLiveGram.view; v.dragging = true; v.compute(); }")
    app.page.mouse.move(x + 0.3, y + 0.3)
    head, how = tip.inner_text().split("\n", 1)
    assert head.startswith(f"rows {r0}–{r1} × cols {c0}–{c1} (9×9 points pooled), mean k = ")
    assert "estimate from the cell's 4-point d² rule" in how
    estimate = float(head.rsplit("= ", 1)[1])
    assert estimate == pytest.approx(exact, abs=0.02)  # the preview's aim (docs/LESSONS.md)
    app.page.evaluate("() => { const v = window.__vmapLiveGram.view; v.dragging = false; v.request(); }")
