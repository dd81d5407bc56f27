"""Screens at narrow and wide windows in Chromium: square heatmaps with tight axes, a
sidebar that starts collapsed below 1000 px, tables that fit, only the sidebar controls a
page uses, and no table cell reading "None".

Each test loads the app in a window of the width it is about (the shared tabs are
1400 px wide); the tests of the sidebar's start, which the browser remembers, in a
browser context of their own. Geometry is read from the DOM as the user sees it: the Plotly
plot area (its drag layer), the live canvas's box, the sidebar's box.
"""

from __future__ import annotations

from typing import Any, Iterator

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.app_page import AppPage

pytestmark = pytest.mark.e2e

# The live canvas draws its matrix `plot` px square with fixed margins around it
# (ui/components/live_heatmap.js, layout(): L = 52, R = 78 beside it, T = 34, B = 12).
LIVE_SIDE_MARGINS, LIVE_TOP_BOTTOM = 52 + 78, 34 + 12
SQUARE_PX = 3  # rounding of the plot area's edges to device pixels, and Plotly's own rounding


@pytest.fixture
def at_width(new_tab: Any) -> Any:
    """`at_width(w)` is a tab whose window is `w` px wide before the app loads in it."""

    def open_tab(width: int) -> AppPage:
        app = new_tab()
        app.page.set_viewport_size({"width": width, "height": 1000})
        return app

    return open_tab


@pytest.fixture
def fresh_window(context_factory: Any, server: Any) -> Any:
    """`fresh_window(w)` is a tab in a new browser context, `w` px wide: a visitor whose
    browser has stored nothing (the sidebar's open or closed state is remembered)."""

    def open_tab(width: int) -> AppPage:
        page = context_factory().new_page()
        page.set_viewport_size({"width": width, "height": 1000})
        return AppPage(page, server.url)

    return open_tab


def plot_area(app: AppPage, title_start: str) -> dict[str, float]:
    """The Plotly chart titled `title_start…`: its plot area's box and its axis ranges."""
    return app.page.locator(".js-plotly-plot").evaluate_all(
        """(graphs, start) => {
            const g = graphs.find(g => (g.layout.title.text || '').replace(/<[^>]*>/g, '')
                                        .startsWith(start));
            const r = g.querySelector('.nsewdrag').getBoundingClientRect();
            const L = g._fullLayout;
            return {width: r.width, height: r.height, x: L.xaxis.range, y: L.yaxis.range};
        }""", title_start)


@pytest.mark.parametrize("width", [800, 1280, 1920])
def test_live_gram_heatmap_is_square_and_readable(at_width: Any, width: int) -> None:
    app = at_width(width).open_page("gram.py")
    canvas = app.page.locator("canvas.heatmap")
    expect(canvas).to_have_attribute("data-shown", "exact")
    box = canvas.bounding_box()
    side, tall = box["width"] - LIVE_SIDE_MARGINS, box["height"] - LIVE_TOP_BOTTOM
    assert abs(side - tall) <= SQUARE_PX, (width, box)
    assert side >= 300, f"at {width} px the Gram heatmap is only {side:.0f} px wide"
    app.assert_healthy()


@pytest.mark.parametrize("width", [800, 1280, 1920])
def test_plotly_heatmaps_have_square_cells_and_tight_axes(at_width: Any, width: int) -> None:
    # The periodic kernel has no live preview: its K is a Plotly heatmap (matrix_heatmap),
    # as is the squared-distance matrix below it; N = 400 points, one cell per entry.
    app = at_width(width).open_page("gram.py", "kernel=Periodic&n=400")
    for title in ("K, gamma =", "Squared distances"):
        area = plot_area(app, title)
        assert abs(area["width"] - area["height"]) <= SQUARE_PX, (width, title, area)
        assert area["width"] >= 120, (width, title, area)
        # Tight: the axes end at the outer cell edges, no padding around the matrix
        # (before: rows -400…800 around a 400-row matrix at 800 px).
        assert area["x"] == pytest.approx([-0.5, 399.5]), (title, area)
        assert area["y"] == pytest.approx([399.5, -0.5]), (title, area)
    app.assert_healthy()


def test_sidebar_starts_collapsed_on_a_small_window(fresh_window: Any) -> None:
    # Streamlit's "auto": collapsed at 768 px and below (its md breakpoint), open above.
    small = fresh_window(760).open_page("gram.py")
    assert small.sidebar.bounding_box()["width"] == 0
    small.page.get_by_test_id("stExpandSidebarButton").click()
    expect(small.sidebar.get_by_role("link", name="Gram explorer")).to_be_visible()
    wide = fresh_window(1280).open_page("gram.py")
    expect(wide.sidebar.get_by_role("link", name="Gram explorer")).to_be_visible()
    assert wide.sidebar.bounding_box()["width"] > 200


def open_sidebar_width(app: AppPage) -> float:
    """The sidebar's width once it shows its menu (the open animation is over)."""
    expect(app.sidebar).to_have_attribute("data-collapsed", "false")
    expect(app.sidebar.get_by_role("link", name="Kernel lab")).to_be_visible()
    app.transitions_done(app.sidebar)
    return app.sidebar.bounding_box()["width"]


def test_sidebar_starts_collapsed_below_1000_px_once_and_then_as_the_user_leaves_it(
        fresh_window: Any) -> None:
    # 800 px: above Streamlit's own 768 px, below ui/components/narrow_sidebar.py's 1000 px.
    app = fresh_window(800).open_page("gram.py")
    expect(app.sidebar).to_have_attribute("data-collapsed", "true")
    expect(app.page.get_by_test_id("stExpandSidebarButton")).to_be_visible()
    app.page.get_by_test_id("stExpandSidebarButton").click()
    assert open_sidebar_width(app) > 200
    # Reruns (a sidebar control, a page switch) leave it open: it is collapsed once.
    app.radio("Precision", "float64")
    app.page.get_by_role("link", name="Kernel lab").click()
    app.page.wait_for_url(re.compile("kernel"))
    app.wait_idle()
    assert open_sidebar_width(app) > 200
    app.assert_healthy()
    # Another tab of the same browser: Streamlit remembers the user's choice; it wins.
    again = AppPage(app.page.context.new_page(), app.base_url).open_page("overview.py")
    assert open_sidebar_width(again) > 200


def test_sidebar_starts_open_on_a_wide_window(fresh_window: Any) -> None:
    app = fresh_window(1440).open_page("gram.py")
    assert open_sidebar_width(app) > 200
    # Nothing collapses it later either: the one script that would
    # (ui/components/narrow_sidebar.js) has marked the session handled, and left it open.
    app.page.wait_for_function("() => sessionStorage.getItem('vmap-narrow-sidebar-session') !== null")
    assert app.sidebar.get_attribute("data-collapsed") == "false"
    app.assert_healthy()


# A page shows only the sidebar controls that change it; the others are drawn hidden.
HIDDEN = {
    "precision.py": (["Seed"], ["Dataset", "Number of points N", "Precision", "Kernel",
                                "gamma (log scale)", "Batching method (RBF Gram matrix)"]),
    "kernels.py": (["Dataset", "Number of points N", "Seed", "Precision"],
                   ["Kernel", "gamma (log scale)", "Batching method (RBF Gram matrix)"]),
}


def sidebar_control(app: AppPage, label: str) -> Any:
    return app.sidebar.get_by_label(label, exact=True).first


@pytest.mark.parametrize("page", list(HIDDEN))
def test_a_lab_shows_only_the_sidebar_controls_it_uses(app: AppPage, page: str) -> None:
    app.open_page(page)
    shown, hidden = HIDDEN[page]
    for label in shown:
        expect(sidebar_control(app, label)).to_be_visible()
    for label in hidden:
        expect(sidebar_control(app, label)).to_be_hidden()
    if page == "precision.py":  # and it says which one applies
        expect(app.sidebar).to_contain_text("only Seed applies here")
    app.assert_healthy()


def test_a_value_set_on_the_gram_page_survives_the_precision_lab(app: AppPage) -> None:
    app.open_page("gram.py")
    app.select("Dataset", "Two moons")
    app.page.get_by_role("link", name="Precision lab").click()
    app.page.wait_for_url(re.compile("precision"))
    app.wait_idle()
    expect(sidebar_control(app, "Dataset")).to_be_hidden()
    assert app.query().get("dataset") == "Two moons"  # a link copied here keeps it
    app.page.get_by_role("link", name="Gram explorer").click()
    app.page.wait_for_url(re.compile("gram"))
    app.wait_idle()
    assert app.selected("Dataset") == "Two moons"
    assert app.first_markdown().startswith("Two moons:")
    app.assert_healthy()


def cut_off_tables(app: AppPage) -> list[list[int]]:
    """[scrollWidth, clientWidth] of each table wider than its box: a dataframe's grid
    scroller, a static table's own box."""
    tables = app.page.locator('[data-testid="stDataFrame"], [data-testid="stTable"]')
    expect(tables.first).to_be_visible()
    sizes = tables.evaluate_all("""els => els.map(e => {
        const s = e.querySelector('.dvn-scroller') || e;
        return [s.scrollWidth, s.clientWidth]; })""")
    return [size for size in sizes if size[0] > size[1]]


@pytest.mark.parametrize("width", [800, 1280])
@pytest.mark.parametrize("page", ["kernels.py", "precision.py", "anatomy.py"])
def test_no_table_is_cut_off_and_no_cell_reads_none(at_width: Any, page: str, width: int) -> None:
    app = at_width(width).open_page(page)
    assert cut_off_tables(app) == [], f"{page} at {width} px"
    tables = app.page.get_by_test_id("stDataFrame")
    expect(tables.first).to_be_visible()
    for i in range(tables.count()):
        cells = tables.nth(i).locator("[role=gridcell], td").all_inner_texts()
        assert cells, f"{page}: table {i} shows no cells"
        assert "None" not in [c.strip() for c in cells], (page, i, cells)


@pytest.mark.parametrize("width", [800, 1280])
def test_kernel_lab_heatmaps_are_square_and_readable(at_width: Any, width: int) -> None:
    app = at_width(width).open_page("kernels.py")
    for title in ("K on the 1-D grid", "K on Blobs"):
        area = plot_area(app, title)
        assert abs(area["width"] - area["height"]) <= SQUARE_PX, (width, title, area)
        # Three columns left them about 150 px square at 800 px.
        assert area["width"] >= 250, (width, title, area)
    app.assert_healthy()


@pytest.mark.parametrize("width", [800, 1280])
def test_overview_code_blocks_are_not_cut_off(at_width: Any, width: int) -> None:
    app = at_width(width).open_page("overview.py")
    blocks = app.main.get_by_test_id("stCode").locator("pre")
    expect(blocks.first).to_be_visible()
    for i in range(blocks.count()):
        scroll, client = blocks.nth(i).evaluate("e => [e.scrollWidth, e.clientWidth]")
        assert scroll <= client, f"code block {i} at {width} px: {scroll} px of text in {client} px"


def column_lefts(app: AppPage) -> list[list[int]]:
    """For each visible row of `st.columns` in the main area with two or more columns,
    the left edge (px) of each of its visible columns."""
    return app.main.locator('[data-testid="stHorizontalBlock"]').evaluate_all(
        """blocks => blocks
            .filter(b => b.offsetParent !== null)
            .map(b => [...b.children]
                .filter(c => c.matches('[data-testid="stColumn"]') && c.offsetParent !== null)
                .map(c => Math.round(c.getBoundingClientRect().left)))
            .filter(lefts => lefts.length > 1)""")


@pytest.mark.parametrize("width", [800, 1440])
def test_columns_stack_below_1000_px_and_sit_side_by_side_above(at_width: Any, width: int) -> None:
    # The Fit page's rows of controls (data, N, noise, seed; grid side, amplitude; ...):
    # at 800 px (Streamlit itself stacks only at 640) each column starts at the row's left
    # edge, one under the other; at 1440 px they share their rows.
    app = at_width(width).open_page("fit.py")
    expect(app.main.get_by_text("Training points N").first).to_be_visible()
    rows = column_lefts(app)
    assert rows, "no row of columns on the Fit page"
    if width < 1000:
        assert all(len(set(lefts)) == 1 for lefts in rows), rows
    else:
        assert all(len(set(lefts)) == len(lefts) for lefts in rows), rows
    app.assert_healthy()


def svg_boxes(app: AppPage, title_start: str) -> dict[str, Any]:
    """Boxes of the Plotly chart titled `title_start…`, as drawn: its x-axis title (SVG
    text), its legend and its plot area."""
    return app.page.locator(".js-plotly-plot").evaluate_all(
        """(graphs, start) => {
            const g = graphs.find(g => (g.layout.title.text || '').replace(/<[^>]*>/g, '')
                                        .startsWith(start));
            const box = el => { if (!el) return null; const r = el.getBoundingClientRect();
                                return {left: r.left, right: r.right, top: r.top, bottom: r.bottom}; };
            return {xtitle: box(g.querySelector('.xtitle')), legend: box(g.querySelector('.legend')),
                    plot: box(g.querySelector('.nsewdrag'))};
        }""", title_start)


def overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return a["left"] < b["right"] and b["left"] < a["right"] and a["top"] < b["bottom"] and b["top"] < a["bottom"]


@pytest.mark.parametrize("width", [800, 1440])
def test_anatomy_late_binding_chart_keeps_its_axis_title_clear_of_the_legend(
        at_width: Any, width: int) -> None:
    """The axis title "point index i" was drawn under the legend at 1440 and 800 px."""
    app = at_width(width).open_page("anatomy.py")
    chart = app.page.locator(".js-plotly-plot").filter(has_text="Predictions for the first")
    chart.scroll_into_view_if_needed()
    expect(chart.locator(".xtitle")).to_have_text("point index i")
    boxes = svg_boxes(app, "Predictions for the first")
    assert not overlap(boxes["xtitle"], boxes["legend"]), (width, boxes)
    assert boxes["legend"]["top"] >= boxes["plot"]["bottom"], (width, boxes)  # not on the data
    app.assert_healthy()


# --- the Batching race's results (issue 22) ----------------------------------------

RACE_CHARTS = ("Time per call", "Speedup over", "Agreement with")


@pytest.fixture(scope="module")
def raced_at(browser: Any, server: Any) -> Iterator[Any]:
    """`raced_at(w)`: a tab `w` px wide on the race page after a quick race of the
    default methods (one repeat, 0.1 s each), one race per width for the module."""
    tabs: dict[int, AppPage] = {}
    contexts = []

    def race(width: int) -> AppPage:
        if width not in tabs:
            ctx = browser.new_context(viewport={"width": width, "height": 1000},
                                      accept_downloads=False)
            contexts.append(ctx)
            app = AppPage(ctx.new_page(), server.url).open_page(
                "race.py", "w_race_repeats=1&w_race_budget=0.1")
            app.button("Run the race").click()
            app.wait_for_text("The race finished", timeout_ms=300_000)
            tabs[width] = app
        return tabs[width]

    yield race
    for ctx in contexts:
        ctx.close()


def grid_columns(app: AppPage) -> dict[str, Any]:
    """The results grid as drawn: per column its width (px) and the width its header and
    each cell's text need in the grid's own fonts (text + the cell padding both sides),
    and the canvas's visible width. The grid draws on a canvas and cuts a text that does
    not fit with "…"; its columns and cell texts are read from the grid component."""
    grid = app.main.get_by_test_id("stDataFrame")
    grid.scroll_into_view_if_needed()
    return grid.evaluate(
        """async e => {
            await document.fonts.ready;
            const canvas = e.querySelector('canvas[data-testid=data-grid-canvas]');
            let f = canvas[Object.keys(canvas).find(k => k.startsWith('__reactFiber'))];
            while (f && !(f.memoizedProps && f.memoizedProps.columns
                          && f.memoizedProps.getCellContent)) f = f.return;
            const p = f.memoizedProps;
            const css = getComputedStyle(e.querySelector('.stDataFrameGlideDataEditor'));
            const v = name => css.getPropertyValue(name).trim();
            const pad = 2 * parseFloat(v('--gdg-cell-horizontal-padding'));
            const ctx = document.createElement('canvas').getContext('2d');
            const need = (font, text) => {
                ctx.font = `${v(font)} ${v('--gdg-font-family')}`;
                return ctx.measureText(text).width + pad; };
            return {
                visible: canvas.getBoundingClientRect().width,
                columns: p.columns.map((c, i) => ({
                    title: c.title, width: c.width,
                    header: need('--gdg-header-font-style', c.title),
                    cells: Array.from({length: p.rows}, (_, r) => p.getCellContent([i, r]))
                        .filter(cell => typeof cell.displayData === 'string')
                        .map(cell => [cell.displayData,
                                      need('--gdg-base-font-style', cell.displayData)]),
                })),
            };
        }""")


@pytest.mark.parametrize("width", [800, 1440])
def test_race_table_columns_fit_their_content(raced_at: Any, width: int) -> None:
    """At 1440 px "auto (fastest accurate) → jit · cente…" was cut, and "repeats" was
    cut by the table's edge."""
    app = raced_at(width)
    grid = grid_columns(app)
    titles = [c["title"] for c in grid["columns"]]
    assert titles[0] == "method" and "repeats" in titles, titles
    for col in grid["columns"]:
        assert col["header"] <= col["width"], (width, col["title"], col["width"], col["header"])
        cut = [(text, round(need)) for text, need in col["cells"] if need > col["width"]]
        assert not cut, (width, col["title"], col["width"], cut)
    methods = [text for text, _ in grid["columns"][0]["cells"]]
    assert any(m.startswith("auto → ") for m in methods), methods
    if width >= 1440:  # every column in view: none cut by the table's edge
        total = sum(c["width"] for c in grid["columns"])
        assert total <= grid["visible"] + 1, (total, grid["visible"])
    app.assert_healthy()


def figure_boxes(app: AppPage, title_start: str) -> dict[str, Any]:
    """`svg_boxes` of the chart titled `title_start…`, with the whole figure's box."""
    chart = app.page.locator(".js-plotly-plot").filter(has_text=title_start)
    chart.scroll_into_view_if_needed()
    boxes = svg_boxes(app, title_start)
    boxes["figure"] = chart.locator(".main-svg").first.evaluate(
        """e => { const r = e.getBoundingClientRect();
                  return {left: r.left, right: r.right, top: r.top, bottom: r.bottom}; }""")
    return boxes


def inside(inner: dict[str, float], outer: dict[str, float], slack: float = 0.5) -> bool:
    return (inner["left"] >= outer["left"] - slack and inner["right"] <= outer["right"] + slack
            and inner["top"] >= outer["top"] - slack and inner["bottom"] <= outer["bottom"] + slack)


@pytest.mark.parametrize("width", [800, 1440])
def test_race_charts_keep_their_axis_titles_inside_the_figure(raced_at: Any, width: int) -> None:
    """The speedup chart's axis title ended "…log sca" at 1440 px: it ran past the
    figure's right edge (SVG text is clipped there, not wrapped)."""
    app = raced_at(width)
    for title in RACE_CHARTS:
        boxes = figure_boxes(app, title)
        assert inside(boxes["xtitle"], boxes["figure"]), (width, title, boxes)
    app.assert_healthy()


@pytest.mark.parametrize("width", [800, 1440])
def test_race_time_chart_keeps_its_legend_clear_of_the_axis_title(raced_at: Any,
                                                                  width: int) -> None:
    app = raced_at(width)
    boxes = figure_boxes(app, "Time per call")
    assert not overlap(boxes["xtitle"], boxes["legend"]), (width, boxes)
    assert boxes["legend"]["top"] >= boxes["plot"]["bottom"], (width, boxes)  # not on the bars
    assert inside(boxes["legend"], boxes["figure"]), (width, boxes)
    app.assert_healthy()
