"""AppTest of the Scale page: the block engine at a small N, a partial run, a huge N.

The page is checked against `core.scale` run directly on the same data: the
heatmap it draws must hold the engine's pooled means, its row-sum figures the
engine's row sums.
"""

from __future__ import annotations

import base64
import itertools
import json

import jax
import numpy as np
import pytest

from core.scale import BlockRun, run_blocks
from core.kernels.functions import median_heuristic_gamma
from core.dense.memory import format_bytes
from core.dense.methods import resolve
from core.scale.synthetic import synthetic_points
from core.scale import MAX_POOLED_SIDE
from core.views.scale import scale_view
from tests.app.conftest import no_exception, plotly_figures, widget
from tests.app.figures import assert_heatmap_shows, decode, figure_by_title

N = 2000


def _array(value) -> np.ndarray:
    """A Plotly array from a figure's JSON: typed binary {"dtype", "bdata", "shape"} or a list."""
    if isinstance(value, dict):
        flat = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
        shape = value.get("shape")
        return flat.reshape([int(s) for s in str(shape).split(",")]) if shape else flat
    return np.asarray(value)


def _figure(at, title_start: str) -> dict:
    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        title = spec["layout"].get("title", {})
        if str(title.get("text", title)).startswith(title_start):
            return spec
    raise AssertionError(f"no chart titled {title_start!r}")


def _metric(at, label: str) -> str:
    for m in at.metric:
        if m.label == label:
            return m.value
    raise AssertionError(f"no metric {label!r}: {[m.label for m in at.metric]}")


@pytest.fixture(scope="module")
def expected():
    """The engine's result on the page's default data at N = 2,000 (blobs, D = 2, seed 0)."""
    X = synthetic_points("blobs", N, 2, 0, "float32")
    gamma = median_heuristic_gamma(X)
    return X, gamma, run_blocks(X, gamma)


def test_compute_shows_the_engine_result_then_a_stopped_run_as_partial(page, expected):
    X, gamma, result = expected
    at = page("scale.py")
    widget(at, "w_scale_n").set_value(N).run()
    no_exception(at)
    assert _metric(at, "A dense K would need") == format_bytes(N * N * 4) == "15.3 MiB"
    assert not at.get("plotly_chart")  # nothing is computed before the click

    widget(at, "w_scale_compute").click().run()
    no_exception(at)
    assert any(f"all {N:,} rows" in s.value for s in at.success)
    # "The code that runs" is the engine's own source: the tile, its symmetric form, the step.
    shown = [c.value.split("(", 1)[0] for c in at.code if c.value.startswith("def ")]
    assert shown == ["def rbf_tile", "def symmetric_tile", "def block_step"], shown
    heatmap = _figure(at, "K, pooled block by block")
    z = _array(heatmap["data"][0]["z"])
    np.testing.assert_array_equal(z, result.pooled)  # same code, same data: the same bits
    f = -(-N // MAX_POOLED_SIDE)
    assert f"mean of {f}×{f} entries" in heatmap["layout"]["title"]["text"]
    assert_heatmap_shows(decode(heatmap), pooled=result.pooled, factor=f, shape=(N, N))
    q = np.quantile(result.row_sums, [0, 0.5, 1])
    assert _metric(at, "Smallest row sum") == f"{q[0]:.6g}"
    assert _metric(at, "Median row sum") == f"{q[1]:.6g}"
    assert _metric(at, "Largest row sum") == f"{q[2]:.6g}"
    (key, kept), = at.session_state["_scale_results"].items()
    np.testing.assert_array_equal(kept.row_sums, result.row_sums)
    # The cost per entry read back from the screen is the run's own, to its 2 figures
    # (under 1 ns an entry it read "0.0 s").
    steady = kept.steady_seconds_per_entry
    if steady is not None:
        value, unit = _metric(at, "Cost per entry (one run)").split()
        scale = {"s": 1, "ms": 1e-3, "µs": 1e-6, "ns": 1e-9}[unit]
        assert float(value) * scale == pytest.approx(steady, rel=0.06)
    assert key[1] == N and key[5] == pytest.approx(gamma)
    _assert_figures_draw_the_view(at)

    # A run that a click interrupted after three of its eight steps (the page files
    # it away on its next run): shown as partial, never as the result. Steps of 250
    # rows on one device, not the CPU default of 500 at N = 2,000 (four steps).
    run = BlockRun(X, gamma, rows_per_device=250, devices=jax.devices()[:1])
    for _ in itertools.islice(run.steps(), 3):
        pass
    at.session_state["_scale_results"] = {}
    at.session_state["_scale_active"] = dict(key=key, run=run)
    at.run()
    no_exception(at)
    assert not at.success
    assert any("Stopped after 750 of 2,000 rows (38%)" in w.value for w in at.warning)
    title = _figure(at, "K, pooled block by block")["layout"]["title"]["text"]
    assert "partial: 750 of 2,000 rows" in title
    assert _metric(at, "Entries of K done") == f"{750 * N:,}"

    # A new setting abandons it: said once, nothing of it shown.
    widget(at, "w_scale_n").set_value(1000).run()
    no_exception(at)
    assert any("abandoned" in i.value for i in at.info)
    assert not at.get("plotly_chart") and not at.warning


def _bucket_means(values: np.ndarray, size: int) -> tuple[np.ndarray, ...]:
    """Starts, min, mean, max of consecutive buckets of `size` values (the last may be shorter)."""
    starts = np.arange(0, values.size, size)
    parts = [values[s:s + size] for s in starts]
    return (starts, np.array([p.min() for p in parts]), np.array([p.mean() for p in parts]),
            np.array([p.max() for p in parts]))


def _covers(axis: dict, values: np.ndarray) -> None:
    """An axis shows all of `values`: Plotly's autorange, or a set range around them."""
    if "range" in axis and axis.get("autorange") is not True:
        low, high = sorted(axis["range"])
        assert low <= np.nanmin(values) and np.nanmax(values) <= high, (axis["range"], values)


def _assert_figures_draw_the_view(at) -> None:
    """Every figure and number of a computed run at the defaults (N = 2,000) against
    `scale_view` called directly with the same settings."""
    view = scale_view(kind="blobs", n=N, d=2, seed=0, dtype="float32", gamma_factor=1.0)
    figures = plotly_figures(at)
    # Memory before the run: the view's bytes, as the page words them.
    assert _metric(at, "A dense K would need") == format_bytes(int(view["dense_bytes"]))
    assert _metric(at, "Budget for a dense result") == format_bytes(int(view["budget_bytes"]))
    assert _metric(at, "The block engine holds about") == format_bytes(int(view["engine_bytes"]))
    # The heatmap: the view's pooled means over the point indices they cover.
    f = int(view["pool_factor"])
    assert_heatmap_shows(figures["w_scale_heatmap"], pooled=view["pooled"], factor=f,
                         shape=(N, N))
    # Row sums along the points: bucket means in a min-max band, over point indices.
    sums = view["row_sums"]
    assert sums.shape == (N,) and sums.dtype == np.float64
    profile = figures["w_scale_profile"]
    high, low, mean = profile["data"]
    size = -(-N // 1500)  # buckets of at most 1,500 points on screen (ui.charts.scale)
    starts, b_low, b_mean, b_high = _bucket_means(sums, size)
    for trace, want in ((high, b_high), (low, b_low), (mean, b_mean)):
        np.testing.assert_array_equal(np.asarray(trace["x"]), starts)
        np.testing.assert_allclose(np.asarray(trace["y"], dtype=float), want, rtol=1e-12)
    assert profile["layout"]["xaxis"]["title"]["text"] == "point index i"
    assert profile["layout"]["yaxis"]["title"]["text"].startswith("row sum")
    _covers(profile["layout"]["xaxis"], starts)
    _covers(profile["layout"]["yaxis"], sums)
    # The histogram counts every point's row sum once.
    hist = figures["w_scale_hist"]
    counts, edges = np.histogram(sums, bins=60)
    np.testing.assert_array_equal(np.asarray(hist["data"][0]["y"]), counts)
    np.testing.assert_allclose(np.asarray(hist["data"][0]["x"], dtype=float),
                               (edges[:-1] + edges[1:]) / 2, rtol=1e-12)
    assert hist["layout"]["xaxis"]["title"]["text"].startswith("row sum")
    assert hist["layout"]["yaxis"]["title"]["text"] == "number of points"
    _covers(hist["layout"]["xaxis"], edges)
    # The quantiles under them.
    q = view["row_sum_quantiles"]
    for label, value in zip(("Smallest", "Median", "Largest"), q):
        assert _metric(at, f"{label} row sum") == f"{value:.6g}"


def test_a_million_points_shows_the_dense_need_and_offers_the_block_engine(page):
    at = page("scale.py")
    widget(at, "w_scale_n").set_value(1_000_000).run()
    no_exception(at)
    assert _metric(at, "A dense K would need") == "3.64 TiB"
    assert _metric(at, "Budget for a dense result") == "2.00 GiB"
    held = _metric(at, "The block engine holds about")
    assert held.endswith("MiB") and float(held.split()[0]) < 500
    dense = resolve("auto", 1_000_000, 1_000_000, 2, "float32")  # what a dense page would run
    need = format_bytes(1_000_000**2 * 4 * dense.copies)
    assert any("out of reach" in i.value and need in i.value for i in at.info)
    compute = widget(at, "w_scale_compute")
    assert not compute.disabled
    # 512 rows on each of the app's CPU devices per step (one per core, tests/conftest.py)
    count = jax.device_count()
    steps, rows = -(-1_000_000 // (512 * count)), 512 * count
    assert any(f"{steps:,} steps of {rows:,} rows on {count} CPU device" in m.value
               for m in at.markdown)


def test_the_pooled_heatmap_spans_every_point_with_the_engines_means(page):
    """N = 1,000 pools 3 × 3 points a cell (the last cell 1 point wide): the figure holds
    core's pooled means, each cell over the points it covers, the axes from point 0 to
    point 999. Axes in cell indices (0…333) over cells placed at point indices showed a
    flat corner of K (at N = 100,000 the first cell: one blob's ≈ 0.94)."""
    n = 1000
    X = synthetic_points("blobs", n, 2, 0, "float32")
    result = run_blocks(X, median_heuristic_gamma(X))
    at = page("scale.py")
    widget(at, "w_scale_n").set_value(n).run()
    widget(at, "w_scale_compute").click().run()
    no_exception(at)
    fig = figure_by_title(at, "K, pooled block by block")
    assert result.pool_factor == 3 and result.pooled.shape == (334, 334)
    assert_heatmap_shows(fig, pooled=result.pooled, factor=3, shape=(n, n))
    # What the user sees: blobs in order, so the colours span near 0 to near 1.
    z = np.asarray(fig["data"][0]["z"])
    assert z.min() < 0.2 and z.max() > 0.8
