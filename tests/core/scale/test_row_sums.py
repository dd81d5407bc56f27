"""The Scale page's sentence on row sums, computed by the block engine.

"A row sum Σⱼ k(x_i, x_j) is the kernel mass around point i (the diagonal adds 1):
large in dense regions, 1 for an isolated point, N when gamma → 0."
"""

from __future__ import annotations

import numpy as np

from core.scale import run_blocks


def test_row_sums_are_one_when_isolated_n_when_gamma_vanishes_and_larger_in_dense_regions():
    rng = np.random.default_rng(3)
    cluster = rng.normal(scale=0.1, size=(60, 2))
    loner = np.array([[50.0, 50.0]])
    X = np.vstack([cluster, loner]).astype(np.float32)
    r = run_blocks(X, 1.0, rows_per_device=32, tile_cols=64)
    assert r.complete
    assert r.row_sums[-1] == np.float64(1.0)  # exp(-γ·5000) underflows to 0: only k(x, x) = 1
    assert np.all(r.row_sums[:-1] > 50)  # 60 close neighbours, each k near 1
    tiny = run_blocks(X, 1e-12, rows_per_device=32, tile_cols=64)
    np.testing.assert_allclose(tiny.row_sums, X.shape[0], rtol=1e-6)
