"""The Fit page in AppTest: the surface, the chosen point, the climb, the fit, held-out densities."""

from __future__ import annotations

import math

import re

import numpy as np
import pytest

from core.lessons.fit.compare import surface_axes
from core.data.regression import load_regression
from core.views.fit import fit_view
from tests.app.conftest import metric, no_exception, plotly_figures, widget

SMALL = {"fit_n": "50", "fit_side": "16"}


def contour_z(at) -> np.ndarray:
    fig = plotly_figures(at)["fit_surface"]
    contour = next(t for t in fig["data"] if t["type"] == "contour")
    return np.asarray(contour["z"], dtype=float)


def mean_trace(at, key: str = "fit_fit_chart") -> np.ndarray:
    fig = plotly_figures(at)[key]
    return np.asarray(next(t for t in fig["data"] if t.get("name") == "posterior mean")["y"], dtype=float)


def test_page_renders_the_surface_with_the_grid_shape_and_sklearns_values(page):
    sk_gp = pytest.importorskip("sklearn.gaussian_process")
    kernels = pytest.importorskip("sklearn.gaussian_process.kernels")
    at = page("fit.py", SMALL)
    z = contour_z(at)
    assert z.shape == (16, 16)  # drawn as z[noise, gamma]
    data = load_regression("sine_1d", 50, 0.2, 0, "float64")  # the page's default precision
    gammas, noises = surface_axes(16, np.float64)
    i, j = 8, 10  # gamma index, noise index
    kernel = (kernels.ConstantKernel(1.0, "fixed") * kernels.RBF(1 / math.sqrt(2 * gammas[i]), "fixed")
              + kernels.WhiteKernel(noises[j], "fixed"))
    expected = sk_gp.GaussianProcessRegressor(kernel, optimizer=None, alpha=0).fit(
        data.X.astype(np.float64), data.y.astype(np.float64)).log_marginal_likelihood_value_
    # float64 surface: round-off of the O(N) terms only.
    assert z[j, i] == pytest.approx(expected, rel=1e-9, abs=1e-9)
    assert metric(at, "Cells (16 × 16)") == "256"


def _trace(fig: dict, name: str) -> dict:
    return next(t for t in fig["data"] if t.get("name") == name)


def _covers(axis: dict, values: np.ndarray) -> None:
    """An axis shows `values`: Plotly's autorange (no range set) or a range around them."""
    if "range" in axis:
        lo, hi = sorted(axis["range"])
        assert lo <= np.nanmin(values) and np.nanmax(values) <= hi, (axis["range"], values)


def test_the_default_view_is_complete_and_draws_the_views_arrays(page):
    """At its defaults the page draws `core.views.fit`'s arrays: the surface, the chosen
    point, the fit beside kernel ridge regression, the held-out predictions, and their metrics."""
    at = page("fit.py")
    assert widget(at, "fit_dtype").value == "float64"
    settings = at.session_state["_export_fit"][1]  # what the page's export calls fit_view with
    assert (settings["data"], settings["n"], settings["side"], settings["gamma"], settings["noise"],
            settings["climbed"]) == ("sine_1d", 100, 64, 1.0, 0.1, None)
    view = fit_view(**settings)
    figures = plotly_figures(at)
    close = dict(rtol=1e-12, atol=1e-12)  # float64, the same code: round-off at most

    surface = figures["fit_surface"]
    contour = next(t for t in surface["data"] if t["type"] == "contour")
    z = np.asarray(contour["z"], dtype=float)
    assert z.shape == (64, 64) and np.isfinite(z).all(), f"{np.isnan(z).sum()} blank cells"
    np.testing.assert_allclose(z, view["lml"].T, **close)  # drawn as z[noise, gamma]
    np.testing.assert_allclose(contour["x"], np.log10(view["gammas"]), **close)
    np.testing.assert_allclose(contour["y"], np.log10(view["noises"]), **close)
    chosen = _trace(surface, "chosen point")
    assert (float(chosen["x"][0]), float(chosen["y"][0])) == pytest.approx((0.0, -1.0))
    layout = surface["layout"]
    assert layout["xaxis"]["title"]["text"] == "gamma (log scale)"
    assert layout["yaxis"]["title"]["text"] == "noise variance (log scale)"
    _covers(layout["xaxis"], np.log10(view["gammas"]))
    _covers(layout["yaxis"], np.log10(view["noises"]))
    assert metric(at, "Grid maximum LML") == f"{np.nanmax(view['lml']):.5g}"
    assert not any("cells are blank" in i.value for i in at.info)

    grid, mean = view["grid"], view["posterior_mean"]
    for key in ("fit_fit_chart", "fit_krr_chart"):
        fig = figures[key]
        np.testing.assert_allclose(_trace(fig, "posterior mean")["x"], grid, **close)
        np.testing.assert_allclose(_trace(fig, "posterior mean")["y"], mean, **close)
        band = np.asarray(_trace(fig, "± 2 sd, new observation")["y"], dtype=float)
        np.testing.assert_allclose(band[:grid.size], mean + 2 * view["posterior_sd"], **close)
        band_f = np.asarray(_trace(fig, "± 2 sd, f")["y"], dtype=float)
        np.testing.assert_allclose(band_f[:grid.size], mean + 2 * view["posterior_f_sd"], **close)
        np.testing.assert_allclose(_trace(fig, "training data")["x"], view["X"][:, 0], **close)
        np.testing.assert_allclose(_trace(fig, "training data")["y"], view["y"], **close)
        np.testing.assert_allclose(_trace(fig, "true function")["y"], view["truth"], **close)
        assert (fig["layout"]["xaxis"]["title"]["text"], fig["layout"]["yaxis"]["title"]["text"]) == ("x", "y")
        _covers(fig["layout"]["xaxis"], np.concatenate([grid, view["X"][:, 0]]))
    np.testing.assert_allclose(_trace(figures["fit_krr_chart"], "kernel ridge mean")["y"], view["krr_mean"],
                               **close)
    assert metric(at, "max |GP mean − kernel ridge mean|") == f"{float(view['krr_relative_gap']):.2g}"

    held = figures["fit_heldout_chart"]
    point = _trace(held, "held-out point")
    np.testing.assert_allclose(point["x"], view["y_test"], **close)
    np.testing.assert_allclose(point["y"], view["heldout_mean"], **close)
    np.testing.assert_allclose(point["error_y"]["array"], 2 * view["heldout_sd"], **close)
    assert held["layout"]["xaxis"]["title"]["text"] == "true y"
    assert held["layout"]["yaxis"]["title"]["text"] == "predicted mean ± 2 sd"
    assert metric(at, "Mean log density (held out)") == f"{np.mean(view['heldout_log_density']):.4g}"
    # Timings are measured anew: their labels only, never their values.
    assert [str(p) for p in view["heldout_timing"]["program"]] == [
        "vmap over the 25 held-out points", "loop over the 25 points"]
    # The speedup is never bare: its range (or "within noise" where the range holds 1)
    # and what else ran on the machine meanwhile.
    words = next(c.value for c in at.caption if c.value.startswith("The loop over vmap: "))
    low, high = (float(v) for v in re.search(r"range ([\d.]+)–([\d.]+)×", words.replace(",", "")).groups())
    if "within noise on this machine now" in words:
        assert low <= 1 <= high
    else:  # shown to 2 figures: a range just above 1 may read "1.0"
        assert low >= 1 or high <= 1
    assert re.search(r"The machine was (busy|quiet) while this ran", words)
    assert at.session_state["dtype"] == "float32"  # every other page's default precision


def test_float32_is_one_click_away_and_says_why_cells_go_blank(page):
    at = page("fit.py", {"fit_dtype": "float32"})
    z = contour_z(at)
    blank = int(np.isnan(z).sum())
    assert blank > 0
    notice = next(i.value for i in at.info if "cells are blank" in i.value)
    assert notice.startswith(f"{blank:,} of 4,096 cells are blank") and "float64" in notice


def test_choosing_a_point_changes_the_fit_and_krr_stays_equal(page):
    at = page("fit.py", SMALL)
    before = mean_trace(at)
    widget(at, "fit_gamma").set_value(10.0).run()
    no_exception(at)
    after = mean_trace(at)
    assert not np.allclose(before, after)
    # Kernel ridge with lambda = noise is the GP mean: equal to float32 round-off.
    assert float(metric(at, "max |GP mean − kernel ridge mean|")) < 1e-4
    fig = plotly_figures(at)["fit_surface"]
    chosen = next(t for t in fig["data"] if t.get("name") == "chosen point")
    assert float(np.asarray(chosen["x"])[0]) == pytest.approx(1.0)  # log10 of gamma 10


def test_url_reproduces_the_chosen_point(page):
    at = page("fit.py", SMALL | {"fit_gamma": "10", "fit_noise": "0.01"})
    assert widget(at, "fit_gamma").value == 10.0 and widget(at, "fit_noise").value == 0.01
    assert not at.warning, [w.value for w in at.warning]  # no "unknown URL setting" notice


def test_the_climb_goes_up_and_draws_its_path(page):
    at = page("fit.py", SMALL | {"fit_steps": "25", "fit_gamma": "0.01", "fit_noise": "1"})
    widget(at, "fit_climb_button").click().run()
    no_exception(at)
    lml_delta = next(m.delta for m in at.metric if m.label == "LML")
    assert float(lml_delta.split()[0]) > 0
    fig = plotly_figures(at)["fit_surface"]
    climb = next(t for t in fig["data"] if t.get("name") == "climb")
    assert len(climb["x"]) >= 2
    widget(at, "fit_use_end").click().run()
    no_exception(at)
    assert widget(at, "fit_gamma").value > 0.01  # the climb moved gamma up from the start


def test_held_out_densities_by_vmap_equal_the_loop(page):
    at = page("fit.py", SMALL | {"fit_data": "2-D wave"})
    assert any("D = 2 features" in i.value for i in at.info)  # the URL chose the 2-D set
    assert float(metric(at, "max |vmap − loop|")) < 1e-4
    table = next(md.value for md in at.markdown if "vmap over the" in md.value)
    assert "loop over the" in table and "median" in table
    assert "fit_heldout_chart" in plotly_figures(at)


def test_k_not_positive_definite_shows_the_jitter_not_a_nan(page):
    at = page("fit.py", {"fit_dtype": "float32", "fit_n": "400", "fit_side": "16", "fit_noise_sd": "0.0",
                         "fit_gamma": "0.001", "fit_noise": "1e-06"})
    errors = [e.value for e in at.error]
    assert any("smallest jitter that works" in e for e in errors), errors
    shown = " ".join(m.value for m in at.metric) + " ".join(errors)
    assert "nan" not in shown.lower()


def test_timing_the_surface_shows_every_way_and_they_agree(page):
    at = page("fit.py", SMALL)
    widget(at, "fit_time_surface").click().run()
    no_exception(at)
    table = next(md.value for md in at.markdown if "double loop, scaled to all 256 cells" in md.value)
    assert "one gamma row at a time" in table and "every gamma at once" in table
    caption = next(c.value for c in at.caption if c.value.startswith("Largest |loop − one call|"))
    assert float(caption.split(": ")[1].split(" ")[0]) < 1e-2  # float32 LMLs of order 10–100


def test_an_upload_with_a_chosen_target_column_is_fitted(page):
    at = page("fit.py", {"fit_data": "Your upload", "fit_side": "16"})
    assert any("Upload a table" in i.value for i in at.info)
    rng = np.random.default_rng(5)
    x = rng.uniform(-2, 2, size=(60, 2))
    rows = np.column_stack([x, np.sin(x[:, 0]) + 0.05 * rng.standard_normal(60)])
    text = "a,b,target\n" + "\n".join(",".join(f"{v:.6f}" for v in r) for r in rows)
    widget(at, "fit_upload").upload("mine.csv", text.encode(), "text/csv")
    at.run()
    no_exception(at)
    assert not at.error, [e.value for e in at.error]
    assert any("column 3 is the target" in c.value for c in at.caption)
    assert contour_z(at).shape == (16, 16)
    assert float(metric(at, "max |vmap − loop|")) < 1e-4


def test_a_bad_upload_is_refused_with_a_message(page):
    at = page("fit.py", {"fit_data": "Your upload"})
    widget(at, "fit_upload").upload("bad.csv", b"a,b\nx,y\n1,\n", "text/csv")
    at.run()
    no_exception(at)
    assert any("was not loaded" in e.value for e in at.error)
