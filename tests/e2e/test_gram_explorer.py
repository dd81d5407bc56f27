"""The Gram explorer in a real browser: gamma by keyboard, method, dataset and
precision switches, and a copied URL that reopens the same view."""

from __future__ import annotations

import pytest

from tests.e2e.app_page import AppPage, expect

pytestmark = pytest.mark.e2e

PAGE = "gram.py"
METHOD_BOX = "Batching method (RBF Gram matrix)"


def test_gamma_keys_redraw_the_heatmap(app):
    app.open_page(PAGE, "n=100")
    title, heatmap = app.heatmap_title(), app.gram_heatmap()
    hist = app.kernel_histogram()
    assert "gamma follows the median heuristic" in app.main_text()
    assert app.button("Reset gamma to the median heuristic").is_disabled()

    shown = app.press_gamma("ArrowRight")
    assert app.heatmap_title() == f"K, gamma = {shown}" != title
    assert app.gram_heatmap()["fingerprint"] != heatmap["fingerprint"]
    assert app.kernel_histogram()["fingerprint"] != hist["fingerprint"]
    assert "gamma set by you." in app.main_text()
    assert not app.button("Reset gamma to the median heuristic").is_disabled()
    assert app.press_gamma("ArrowLeft") == title.removeprefix("K, gamma = ")
    assert app.gram_heatmap()["fingerprint"] == heatmap["fingerprint"]
    app.assert_healthy()


def test_reset_gamma_returns_to_the_heuristic(app):
    app.open_page(PAGE, "n=100")
    heuristic, heatmap = app.gamma_shown(), app.gram_heatmap()
    app.press_gamma("ArrowRight")
    moved = app.press_gamma("ArrowRight")
    app.button("Reset gamma to the median heuristic").click()
    app.wait_for_text("gamma follows the median heuristic")
    assert app.gamma_shown() == heuristic, \
        f"after the reset the slider shows {app.gamma_shown()} (was {moved}), not the heuristic {heuristic}"
    assert app.heatmap_title() == f"K, gamma = {heuristic}"
    assert app.gram_heatmap()["fingerprint"] == heatmap["fingerprint"]
    assert "gamma" not in app.query()  # the URL and the view agree
    app.assert_healthy()


def test_the_sidebar_never_shows_a_stale_gamma(app):
    # The slider beside the heatmap reruns only its fragment; the sidebar's note
    # about gamma must not keep the old value.
    app.open_page(PAGE, "n=100")
    before = app.gamma_shown()
    shown = app.press_gamma("ArrowRight")
    sidebar = app.page.inner_text('[data-testid="stSidebar"]')
    assert f"gamma = {before}" not in sidebar, \
        f"the sidebar still says gamma = {before} while the slider and heatmap say {shown}"


def test_method_dataset_and_precision_switches_redraw_the_page(app):
    app.open_page(PAGE, "n=300")
    scatter = app.plot("The data")

    app.select(METHOD_BOX, "jit · Method I (nested vmap)")
    app.wait_for_text("Batching method: jit · Method I (nested vmap).")
    assert app.query()["method"] == "jit · Method I (nested vmap)"  # bound: the label
    assert app.gram_heatmap()["points"] == 300

    app.select("Dataset", "Iris")
    app.wait_for_text("Iris: N = 150")
    assert "D = 4 dimensions" in app.first_markdown()
    assert "All 150 rows of Iris." in app.main_text()  # N capped at the data's size
    assert app.plot("The data")["fingerprint"] != scatter["fingerprint"]
    assert app.gram_heatmap()["points"] == 150
    assert app.query()["dataset"] == "Iris"

    app.radio("Precision", "float64")
    expect(app.summary()).to_contain_text("float64")
    app.wait_idle()
    assert app.query()["dtype"] == "float64"
    assert app.gram_heatmap()["points"] == 150
    # The method and dataset chosen before are kept.
    assert app.selected(METHOD_BOX) == "jit · Method I (nested vmap)"
    assert app.selected("Dataset") == "Iris"
    app.assert_healthy()


def test_a_copied_url_reopens_the_same_view(app, context_factory, server):
    app.open_page(PAGE, "n=120")
    app.select("Dataset", "Two moons")
    app.radio("Precision", "float64")
    app.select(METHOD_BOX, "jit · manual broadcasting")
    app.press_gamma("ArrowRight")
    gamma = app.press_gamma("ArrowRight")
    view = dict(summary=app.first_markdown(), heatmap=app.gram_heatmap(),
                scatter=app.plot("The data"), query=app.query())
    assert view["query"]["dataset"] == "Two moons" and view["query"]["n"] == "120"

    other = AppPage(context_factory().new_page(), server.url)
    other.page.goto(app.page.url)
    other.wait_idle()
    assert other.first_markdown() == view["summary"]
    assert other.gamma_shown() == gamma
    assert other.gram_heatmap()["title"] == f"K, gamma = {gamma}"
    assert other.gram_heatmap()["fingerprint"] == view["heatmap"]["fingerprint"]
    assert other.plot("The data")["fingerprint"] == view["scatter"]["fingerprint"]
    assert other.selected("Dataset") == "Two moons"
    assert other.selected(METHOD_BOX) == "jit · manual broadcasting"
    assert other.checked("Precision") == "float64"
    assert other.warnings() == []
    assert other.query() == view["query"]
    other.assert_healthy()
