"""What the browser receives for a heatmap: pooled, and small enough at any N."""

from __future__ import annotations

import numpy as np
import plotly.io as pio
import pytest

from core.scale.pooling import pool_mean
from core.scale import MAX_POOLED_SIDE
from ui.charts.shared import matrix_heatmap

LIMIT_BYTES = 1_500_000


@pytest.mark.parametrize("n", [500, 4000])
@pytest.mark.parametrize("kind", ["random", "ones", "identity"])
def test_heatmap_message_stays_under_1_5_mb(n, kind):
    # The same serialisation st.plotly_chart uses (plotly.io.to_json).
    K = {"random": lambda: np.random.default_rng(0).random((n, n), dtype=np.float32),
         "ones": lambda: np.ones((n, n), np.float32),
         "identity": lambda: np.eye(n, dtype=np.float32)}[kind]()
    fig, factor = matrix_heatmap(K, "K", "k")
    size = len(pio.to_json(fig, validate=False).encode())
    assert size <= LIMIT_BYTES, f"{size:,} bytes at N = {n} ({kind})"
    z = fig.data[0].z
    assert max(z.shape) <= MAX_POOLED_SIDE <= 512
    np.testing.assert_array_equal(z, pool_mean(K, MAX_POOLED_SIDE)[0])
    assert factor == -(-n // MAX_POOLED_SIDE)
    assert "pooled" in fig.layout.title.text
