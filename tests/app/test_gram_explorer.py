"""Gram explorer: the heatmap shows core's K, and every control reruns cleanly."""

from __future__ import annotations

import numpy as np
import pytest

from core.data import load_dataset
from core.kernels.functions import KERNELS, default_params
from core.kernels.gram import gram_jit
from core.dense.methods import METHODS
from core.scale.pooling import pool_mean
from core.precision import dtype_scope
from core.lessons.spectrum import spectrum
from tests.app.conftest import no_exception, open_page, plotly_figures, widget
from core.scale import MAX_POOLED_SIDE
from ui.components.live_heatmap import decode_exact
from ui.state.settings import grid_label, snap_gamma

PAGE = "gram.py"


def shown_K(at) -> np.ndarray:
    """K as the browser draws it: the live heatmap's exact K, else the Plotly heatmap's."""
    for el in at.get("bidi_component"):
        if el.key == "w_gram_live_exact":
            return decode_exact(el.proto.bytes)["K"]
    return plotly_figures(at)["w_gram_heatmap"]["data"][0]["z"]


def release_gamma(at, gamma: float):
    """What a release of the live slider does (ui/sidebar.hand_released_gamma)."""
    at.session_state["gamma"] = snap_gamma(gamma)
    return at.run()


def data_of(at):
    ss = at.session_state
    # A control the dataset does not use (noise for blobs) is not drawn: its default applies.
    noise = ss["noise"] if "noise" in ss else 0.1
    X, y = load_dataset(ss["dataset"], n=ss["n"], seed=ss["seed"], noise=noise, dtype=ss["dtype"])
    return X, y


def test_heatmap_is_cores_gram_matrix_ordered_by_label():
    at = open_page(PAGE)
    X, y = data_of(at)
    gamma = at.session_state["gamma"]
    K = METHODS["auto"].compute(X, None, gamma)
    order = np.argsort(y, kind="stable")
    np.testing.assert_allclose(shown_K(at), K[np.ix_(order, order)], atol=2e-6)
    shown = next(e for e in at.get("bidi_component") if e.key == "w_gram_live_exact")
    assert decode_exact(shown.proto.bytes)["gamma"] == gamma  # the page states the gamma of K


def test_dragging_gamma_redraws_K_from_the_same_distances():
    at = open_page(PAGE, {"dataset": "moons", "n": "120"})
    before = shown_K(at)
    release_gamma(at, at.session_state["gamma"] * 4)
    no_exception(at)
    after = shown_K(at)
    X, y = data_of(at)
    K = METHODS["auto"].compute(X, None, at.session_state["gamma"])
    order = np.argsort(y, kind="stable")
    np.testing.assert_allclose(after, K[np.ix_(order, order)], atol=2e-6)
    assert np.abs(after - before).max() > 0.1  # a user sees the matrix change
    # Off-diagonal values shrink everywhere when gamma grows.
    assert np.all(after <= before + 1e-6)


@pytest.mark.parametrize("method", ["jit_method2", "jit_expansion", "sklearn", "numpy_expansion"])
def test_each_method_shows_its_own_matrix(method):
    at = open_page(PAGE, {"method": method, "n": "150", "dataset": "iris"})
    X, y = data_of(at)
    K = METHODS[method].compute(X, None, at.session_state["gamma"])
    order = np.argsort(y, kind="stable")
    np.testing.assert_allclose(shown_K(at), K[np.ix_(order, order)], atol=2e-6)


def test_unordered_view_and_float64():
    at = open_page(PAGE, {"dtype": "float64", "n": "100"})
    widget(at, "w_gram_order").set_value(False).run()
    no_exception(at)
    X, _ = data_of(at)
    assert X.dtype == np.float64
    K = METHODS["auto"].compute(X, None, at.session_state["gamma"])
    np.testing.assert_allclose(shown_K(at), K, atol=1e-12)


@pytest.mark.parametrize("kernel", [k for k in KERNELS if k != "rbf"])
def test_other_kernels_show_their_gram_matrix(kernel):
    at = open_page(PAGE, {"kernel": kernel, "n": "80", "dataset": "circles"})
    X, y = data_of(at)
    ss = at.session_state
    params = default_params(kernel, **{p.name: ss[p.name] for p in KERNELS[kernel].params
                                       if p.name != "gamma"})
    if "gamma" in params:
        params["gamma"] = ss["gamma"]
    with dtype_scope(X.dtype):
        K = np.asarray(gram_jit(KERNELS[kernel].fn, {k: np.float32(v) for k, v in params.items()}, X))
    order = np.argsort(y, kind="stable")
    np.testing.assert_allclose(shown_K(at), K[np.ix_(order, order)], rtol=1e-5, atol=1e-5)


def test_changing_dataset_dtype_kernel_and_method_reruns_cleanly():
    at = open_page(PAGE, {"n": "100"})
    # Each change, and what the page then says about it (its summary line or a caption).
    for key, value, said in [("dataset", "wine", "**Wine**: N = 100"),
                             ("dtype", "float64", "dimensions, float64"),
                             ("kernel", "matern52", "Kernel: Matérn 5/2"),
                             ("kernel", "rbf", "Kernel: RBF (Gaussian)"),
                             ("method", "jit_broadcast", "Batching method: **jit · manual broadcasting**"),
                             ("dataset", "grid1d", "**1-D grid**: N = 100")]:
        widget(at, key).set_value(value).run()
        no_exception(at)
        X, _ = data_of(at)  # the data the sidebar now names (a dataset's N may be capped by its rows)
        assert shown_K(at).shape == (X.shape[0], X.shape[0]), (key, value)
        assert at.session_state["dtype"] in at.markdown[0].value, (key, value)
        assert any(said in text.value for text in [at.markdown[0], *at.caption]), (key, value)


def test_difference_of_two_methods_equals_core():
    at = open_page(PAGE, {"n": "200", "method": "jit_method1"})
    # Far from the origin the expansion cancels: the difference is visible.
    widget(at, "w_gram_compare").set_value(True).run()
    widget(at, "w_gram_other").set_value("jit_expansion").run()
    no_exception(at)
    X, _ = data_of(at)
    g = at.session_state["gamma"]
    expected = np.abs(METHODS["jit_expansion"].compute(X, None, g).astype(np.float64)
                      - METHODS["jit_method1"].compute(X, None, g)).max()
    metric = next(m for m in at.metric if m.label.startswith("max |K("))
    assert float(metric.value) == pytest.approx(expected, rel=0.05, abs=3e-7)
    # The view's comparison (what the export reproduces, with the other method's distances)
    # is the heatmap drawn, cell for cell.
    from core.dense.methods import resolve
    from tests.app.figures import assert_heatmap_shows

    n, d = X.shape
    other = resolve("jit_expansion", n, n, d, X.dtype)
    _, _, view = _view_of(at, compare_distances=other.distance_method,
                          compare_exact_diagonal=other.zero_diagonal)
    assert at.session_state["_export_gram"][1]["compare_distances"] == other.distance_method
    assert float(metric.value) == pytest.approx(float(view["max_abs_difference"]), rel=1e-3)
    assert_heatmap_shows(plotly_figures(at)["w_gram_diff"], view["K_difference"], atol=1e-7)


def test_spectrum_metrics_equal_core():
    at = open_page(PAGE, {"n": "120", "dataset": "blobs"})
    X, _ = data_of(at)
    spec = spectrum(METHODS["auto"].compute(X, None, at.session_state["gamma"]))
    shown = {m.label: m.value for m in at.metric}
    assert float(shown["Effective rank"]) == pytest.approx(spec.effective_rank, abs=0.05)
    assert float(shown["Condition number"]) == pytest.approx(spec.condition_number, rel=1e-2)


def test_heatmap_is_pooled_for_large_n_and_says_so():
    at = open_page(PAGE, {"n": "1200", "dataset": "uniform"})
    z = shown_K(at)
    assert z.shape == (400, 400)  # 1200 / 3
    assert any("Pooled for display" in c.value and "3×3" in c.value for c in at.caption)
    X, _ = data_of(at)
    K = METHODS["auto"].compute(X, None, at.session_state["gamma"])
    np.testing.assert_allclose(z, pool_mean(K, MAX_POOLED_SIDE)[0], atol=2e-6)


def test_downloads_are_offered():
    at = open_page(PAGE, {"n": "60"})
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Download K as .npy" in labels and "Download K as .csv" in labels


def test_periodic_kernel_on_digits_is_called_indefinite_and_every_eigenvalue_is_drawn():
    # The case: the periodic kernel (period 1) on Digits in float64 has a
    # smallest eigenvalue of about -0.011 (NumPy), far beyond round-off.
    at = open_page(PAGE, {"dataset": "digits", "n": "400", "dtype": "float64",
                          "kernel": "periodic", "period": "1",
                          "gamma": str(snap_gamma(0.0105))})
    ss = at.session_state
    X, y = data_of(at)
    params = {"gamma": ss["gamma"], "period": ss["period"]}
    assert params["period"] == 1.0
    with dtype_scope("float64"):
        K = np.asarray(gram_jit(KERNELS["periodic"].fn, params, X))
    lam = np.linalg.eigvalsh(K)
    assert lam[0] < -1e-3
    warnings = [w.value for w in at.warning]
    assert any("indefinite" in w for w in warnings), warnings
    fig = plotly_figures(at)["w_gram_spec"]
    drawn = np.concatenate([np.asarray(t["customdata"]) for t in fig["data"]])
    assert drawn.size == 400  # none dropped, the ones ≤ 0 included
    np.testing.assert_allclose(np.sort(drawn), lam, atol=1e-9)
    assert any(f"{int(np.sum(lam <= 0))} of 400 eigenvalues are ≤ 0" in c.value for c in at.caption)


def test_rbf_spectrum_is_not_called_indefinite():
    at = open_page(PAGE, {"n": "120", "dataset": "blobs"})
    assert "w_gram_spec" in plotly_figures(at)  # the spectrum is drawn, and judged positive
    assert any(c.value.startswith("K is positive") for c in at.caption), [c.value for c in at.caption]
    assert not any("indefinite" in w.value for w in at.warning)


def test_periodic_kernel_starts_from_its_own_data_defaults_and_shows_the_classes():
    from core.kernels import KERNELS, default_params_for
    from ui.state.settings import log_grid, snap_log

    spec = next(p for p in KERNELS["periodic"].params if p.name == "period")
    periods = log_grid(spec.low, spec.high, spec.default)  # the sidebar's period grid

    at = open_page(PAGE, {"dataset": "digits", "n": "400", "kernel": "periodic"})
    ss = at.session_state
    X, y = data_of(at)
    expected = default_params_for("periodic", X.astype(np.float64))
    assert ss["period"] == snap_log(periods, expected["period"])
    assert ss["gamma"] == snap_gamma(expected["gamma"])
    assert any("period = 2 × the largest distance" in c.value for c in at.caption)
    # What the user sees: the label-ordered heatmap has class blocks, not noise.
    K = shown_K(at)
    ys = np.sort(y)
    same = ys[:, None] == ys[None, :]
    off = ~np.eye(ys.size, dtype=bool)
    assert (K[same & off].mean() - K[~same].mean()) / K[off].std() > 0.5
    # A period the user picks stays picked.
    picked = snap_log(periods, 2.0)
    widget(at, "period").set_value(picked).run()
    no_exception(at)
    assert at.session_state["period"] == picked
    widget(at, "n").set_value(300).run()
    assert at.session_state["period"] == picked


def test_periodic_heatmap_draws_cores_K_over_point_indices():
    """The Plotly heatmap of a kernel with no live preview, pooled 2 × 2 at N = 600: core's
    K in label order, pooled the app's way, each cell over the points it covers, the axes
    from point 0 to point 599 and titled in point indices."""
    from tests.app.figures import assert_heatmap_shows

    at = open_page(PAGE, {"dataset": "digits", "n": "600", "kernel": "periodic"})
    no_exception(at)
    ss = at.session_state
    X, y = data_of(at)
    params = {"gamma": ss["gamma"], "period": ss["period"]}
    K = np.asarray(gram_jit(KERNELS["periodic"].fn, params, X))
    order = np.argsort(y, kind="stable")
    fig = plotly_figures(at)["w_gram_heatmap"]
    assert_heatmap_shows(fig, K[np.ix_(order, order)], atol=2e-6)
    assert fig["layout"]["title"]["text"].startswith(f"K, gamma = {grid_label(ss['gamma'])}")
    # The same cells as the view's K_pooled, and its histogram of K's values off the
    # diagonal drawn bar for bar (counts exactly: the page computes them from the same K).
    _, _, view = _view_of(at, spectrum=False)
    assert_heatmap_shows(fig, pooled=view["K_pooled"], factor=2, shape=(600, 600), atol=1e-6)
    hist = plotly_figures(at)["w_gram_hist"]
    bars = hist["data"][0]
    np.testing.assert_array_equal(bars["y"], view["histogram_counts"])
    edges = view["histogram_edges"]
    np.testing.assert_allclose(bars["x"], (edges[:-1] + edges[1:]) / 2, rtol=1e-6)
    assert int(np.sum(bars["y"])) == 600 * 599 // 2  # every pair once: no sample at N = 600
    assert hist["layout"]["xaxis"]["title"]["text"] == "k(x<sub>i</sub>, x<sub>j</sub>)"
    assert hist["layout"]["yaxis"]["title"]["text"] == "number of entries"
    assert hist["layout"]["title"]["text"] == "Kernel values off the diagonal"


def _view_of(at, **overrides):
    """core's `gram_view` called directly on the page's data and sidebar settings."""
    from core.views.gram import gram_view
    from core.dense.methods import resolve

    X, y = data_of(at)
    ss = at.session_state
    kernel = ss["kernel"]
    params = default_params(kernel, **{p.name: ss[p.name] for p in KERNELS[kernel].params
                                       if p.name != "gamma"})
    if "gamma" in params:
        params["gamma"] = ss["gamma"]
    n, d = X.shape
    method = resolve(ss["method"] if kernel == "rbf" else "jit_method1", n, n, d, X.dtype)
    view = gram_view(X, y, kernel=kernel, params=params, distances=method.distance_method,
                     exact_diagonal=method.zero_diagonal, **overrides)
    return X, y, view


def test_every_figure_at_the_default_view_draws_the_views_arrays():
    """The page at its defaults (RBF, live heatmap, N = 400): the live heatmap's exact K and
    its distances, the scatter plot, the distance heatmap, the spectrum and its metrics are
    `gram_view`'s arrays (called directly), on axes that name them and cover them."""
    from tests.app.figures import assert_heatmap_shows, figure_by_title
    from ui.components.live_heatmap import decode_distances
    from ui.charts.shared import projection_axis_titles

    at = open_page(PAGE)
    X, y, view = _view_of(at)
    n, d = X.shape
    order = view["order"]
    np.testing.assert_array_equal(order, np.argsort(y, kind="stable"))  # label order by default
    shown = lambda M: M[np.ix_(order, order)]  # noqa: E731
    payloads = {el.key: el.proto.bytes for el in at.get("bidi_component")}
    # The live heatmap: K after release (float32 either side: the very numbers) and its distances.
    exact = decode_exact(payloads["w_gram_live_exact"])
    assert exact["gamma"] == at.session_state["gamma"] and exact["factor"] == 1
    np.testing.assert_array_equal(exact["K"], shown(view["K"]))
    sent = decode_distances(payloads["w_gram_live"])
    np.testing.assert_array_equal(sent["order"], order)
    np.testing.assert_array_equal(sent["body"], shown(view["sqdist"]))
    # The distance heatmap: the same distances, over point indices 0 … N − 1.
    dist = figure_by_title(at, "Squared distances")
    assert_heatmap_shows(dist, shown(view["sqdist"]))
    assert dist["data"][0]["colorbar"]["title"]["text"] == "d²"
    # The scatter: one trace per label, the view's Z, axes titled by what they are.
    scatter = plotly_figures(at)["w_gram_scatter"]
    labels = np.unique(y)
    assert len(scatter["data"]) == labels.size
    for trace, label in zip(scatter["data"], labels):
        assert trace["name"] == f"label {label}"
        np.testing.assert_array_equal(trace["x"], view["Z"][y == label, 0])
        np.testing.assert_array_equal(trace["y"], view["Z"][y == label, 1])
    titles = projection_axis_titles(d, view["explained"])
    layout = scatter["layout"]
    assert (layout["xaxis"]["title"]["text"], layout["yaxis"]["title"]["text"]) == titles
    for axis, column in (("xaxis", 0), ("yaxis", 1)):  # autorange, or a range that holds every point
        lo, hi = sorted(layout[axis].get("range", [-np.inf, np.inf]))
        assert lo <= view["Z"][:, column].min() and view["Z"][:, column].max() <= hi
    # The spectrum (automatic at N = 400): every eigenvalue, at its index, on a log axis of |λ|.
    spec = plotly_figures(at)["w_gram_spec"]
    index = np.concatenate([np.asarray(t["x"]) for t in spec["data"]])
    drawn = np.concatenate([np.asarray(t["customdata"]) for t in spec["data"]])
    ev = view["eigenvalues"]
    np.testing.assert_array_equal(np.sort(index), np.arange(1, n + 1))
    np.testing.assert_allclose(drawn[np.argsort(index)], ev, rtol=1e-9, atol=1e-12)
    assert spec["layout"]["yaxis"]["type"] == "log"
    assert spec["layout"]["xaxis"]["title"]["text"] == "index k (descending order)"
    assert spec["layout"]["yaxis"]["title"]["text"].startswith("|eigenvalue|")
    shown_metrics = {m.label: float(m.value) for m in at.metric}
    assert shown_metrics["Effective rank"] == pytest.approx(float(view["effective_rank"]), abs=0.051)
    assert shown_metrics["Condition number"] == pytest.approx(float(view["condition_number"]), rel=5e-3)
    assert shown_metrics["Smallest eigenvalue"] == pytest.approx(float(view["min_eigenvalue"]), rel=5e-3)
