"""What a page's Plotly figure holds, against what core computed: the numbers a user sees.

A heatmap that holds the right numbers can still show the wrong ones (axes in cell
indices over data placed at point indices show one corner of the matrix), so a
heatmap is checked as a whole: its cells against core's matrix pooled the app's
way, its x and y against the point indices each cell covers, its axes' ranges
against the whole matrix, and its titles.
"""

from __future__ import annotations

import base64
import json

import numpy as np

from core.scale.pooling import MAX_POOLED_SIDE, pool_mean

__all__ = ["decode", "figure_by_title", "assert_heatmap_shows"]


def decode(obj):
    """A figure's JSON with Plotly's typed arrays ({"dtype", "bdata", "shape"}) as NumPy."""
    if isinstance(obj, dict):
        if "bdata" in obj and "dtype" in obj:
            arr = np.frombuffer(base64.b64decode(obj["bdata"]), dtype=obj["dtype"])
            shape = obj.get("shape")
            if isinstance(shape, str):
                shape = [int(s) for s in shape.split(",")]
            return arr.reshape(shape) if shape else arr
        return {k: decode(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [decode(v) for v in obj]
    return obj


def _text(title) -> str:
    return str(title.get("text", "")) if isinstance(title, dict) else str(title or "")


def figure_by_title(at, title_start: str) -> dict:
    """The decoded figure on screen whose title starts with `title_start`."""
    titles = []
    for chart in at.get("plotly_chart"):
        spec = decode(json.loads(chart.proto.spec))
        title = _text(spec["layout"].get("title"))
        if title.startswith(title_start):
            return spec
        titles.append(title)
    raise AssertionError(f"no chart titled {title_start!r}: {titles}")


def assert_heatmap_shows(fig: dict, matrix: np.ndarray | None = None, *,
                         pooled: np.ndarray | None = None, factor: int | None = None,
                         shape: tuple[int, int] | None = None,
                         x_title: str = "column j (point index)",
                         y_title: str = "row i (point index)",
                         rtol: float = 0.0, atol: float = 0.0) -> None:
    """Assert that the figure's first trace draws `matrix` (or core's `pooled` means) over point indices.

    Args:
      fig: a decoded figure (`decode`, `figure_by_title`, conftest's `plotly_figures`).
      matrix: core's whole (N, M) matrix: pooled here the app's way (`pool_mean`).
      pooled, factor, shape: or core's pooled means already, f and (N, M).
      x_title, y_title: the axis titles a user reads.
      rtol, atol: tolerance on the cells (0: the very numbers).
    """
    if matrix is not None:
        pooled, factor = pool_mean(np.asarray(matrix), MAX_POOLED_SIDE)
        shape = matrix.shape
    assert pooled is not None and factor is not None and shape is not None
    n, m = shape
    trace = fig["data"][0]
    z = np.asarray(trace["z"])
    assert z.shape == pooled.shape, (z.shape, pooled.shape)
    np.testing.assert_allclose(z, pooled, rtol=rtol, atol=atol, equal_nan=True)
    # Each cell sits at the middle of the points it covers: f × f of them, fewer at the end.
    for axis, size in (("x", m), ("y", n)):
        starts = np.arange(0, size, factor)
        expected = (starts + np.minimum(starts + factor, size) - 1) / 2
        np.testing.assert_allclose(np.asarray(trace[axis], dtype=float), expected,
                                   err_msg=f"{axis}: not the point indices the cells cover")
    layout = fig["layout"]
    # The axes show the whole matrix, point 0 to point N - 1 (rows top to bottom).
    assert sorted(layout["xaxis"]["range"]) == [-0.5, m - 0.5], layout["xaxis"]["range"]
    assert layout["yaxis"]["range"] == [n - 0.5, -0.5], layout["yaxis"]["range"]
    assert _text(layout["xaxis"].get("title")) == x_title
    assert _text(layout["yaxis"].get("title")) == y_title
    title = _text(layout.get("title"))
    if factor > 1:
        assert f"{factor}×{factor}" in title, title
