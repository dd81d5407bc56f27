"""Tests of `core.scale`: the block engine against the dense Gram matrix on sizes that fit.

The reference is scikit-learn's float64 `rbf_kernel`; pooled means are compared
with `core.scale.pooling.pool_mean` of that dense K. Shapes are chosen so that neither
N nor M is a multiple of the block rows, the tile or the pooling factor: every
padding path is exercised.
"""

from __future__ import annotations

import jax
import numpy as np
import pytest
from sklearn.metrics.pairwise import rbf_kernel as sk_rbf

from core.scale import (
    MAX_POOLED_SIDE,
    BlockCancelled,
    BlockReductions,
    BlockRun,
    plan_blocks,
    run_blocks,
)
from tests.core.bounds import assert_within, rbf_entry_error_bound, rbf_error_bound, unit_roundoff
from core.errors import CoreError, DataError
from core.dense.methods import METHODS
from core.scale.pooling import pool_mean

# Entries of K lie in (0, 1]: absolute tolerances from the error analysis of the
# shifted expansion (tests/core/bounds.py); a pooled mean of f x f entries adds the
# rounding of its on-device sum over f columns, at most (f + 1)·u.


def _k_tol(X, Y, gamma, dtype, pool=1):
    # The engine's bound plus the float64 reference's (scikit-learn's plain expansion).
    return (rbf_error_bound(X, Y, gamma, dtype, shifted=True) + (pool + 1) * unit_roundoff(dtype)
            + rbf_error_bound(X, Y, gamma, np.float64))


def _sum_bound(X, Y, gamma, weights, dtype, terms):
    """Bound on each row of sum_j K[i, j] w[j] as the engine computes it, against K's float64 sum.

    Entry (i, j) errs by at most its own bound (engine and float64 reference,
    tests/core/bounds.py), weighted by |w_j|. The device sums `terms` products in
    dtype ((terms - 1)·u in any order, Higham eq. 3.5), after rounding w to dtype
    and the product (2u); the host adds those partial sums in float64, and the
    reference sums in float64 too (M·u64 each, within one more u):
    (terms + 2)·u·Σ|K w|.
    """
    K = _dense(X, Y, gamma)
    entry = (rbf_entry_error_bound(X, Y, gamma, dtype, shifted=True)
             + rbf_entry_error_bound(X, Y, gamma, np.float64))
    return entry @ np.abs(weights) + (terms + 2) * unit_roundoff(dtype) * (K @ np.abs(weights))


# Tests of how many rows a step covers run on one device (steps then cover rows_per_device
# rows); the suite may see one CPU device per core (tests/conftest.py).
ONE = jax.devices()[:1]
SHAPES = [(1037, None), (301, 523)]  # K(X, X) with pooling (f = 3), and a rectangular K(X, Y)


def _engine_K(X, gamma, **kw):
    """K(X, X) from the block engine itself: pooled means of 1 × 1 cells are the entries."""
    r = run_blocks(X, gamma, max_side=len(X), **kw)
    assert r.pool_factor == 1
    return r.pooled


def _dense(X, Y, gamma):
    return sk_rbf(np.asarray(X, np.float64), None if Y is None else np.asarray(Y, np.float64),
                  gamma=gamma)


@pytest.fixture
def data(rng, dtype):
    def make(n, m, d=3, offset=0.0):
        X = (rng.normal(size=(n, d)) + offset).astype(dtype)
        Y = None if m is None else (rng.normal(size=(m, d)) + offset).astype(dtype)
        return X, Y
    return make


@pytest.mark.parametrize("n, m", SHAPES)
def test_block_engine_equals_dense(data, dtype, n, m):
    X, Y = data(n, m)
    gamma = 0.4
    K = _dense(X, Y, gamma)
    v = np.linspace(-1, 1, K.shape[1])
    r = run_blocks(X, gamma, Y, reductions=BlockReductions(matvec=v, diagonal=True),
                   rows_per_device=100, tile_cols=200)
    assert r.complete and r.done_rows == n
    assert r.symmetric == (Y is None)
    expected, factor = pool_mean(K, MAX_POOLED_SIDE)
    assert r.pool_factor == factor and r.pooled.shape == expected.shape
    assert r.pooled.dtype == np.dtype(dtype)
    # Symmetric path (Y is None): a pooled cell's mirrored entries are summed over f
    # columns and then over at most f rows on the device, 2f terms in all.
    pooled_terms = 2 * factor if Y is None else factor
    np.testing.assert_allclose(r.pooled, expected, rtol=0,
                               atol=_k_tol(X, Y, gamma, dtype, pooled_terms))
    # Row sums: the device adds each pooled group of f columns; K @ v: each tile's
    # columns (200, rounded up to whole groups). Symmetric: a row also receives
    # column sums over the 100 rows of an earlier block.
    row_terms = max(factor, 100) if Y is None else factor
    assert_within(r.row_sums, K.sum(axis=1),
                  _sum_bound(X, Y, gamma, np.ones(K.shape[1]), dtype, row_terms), "row sums")
    assert_within(r.matvec, K @ v, _sum_bound(X, Y, gamma, v, dtype, 200 + factor), "K @ v")
    np.testing.assert_allclose(r.diagonal, np.diag(K), rtol=0, atol=_k_tol(X, Y, gamma, dtype))


def test_pooling_is_exact_block_means(dtype):
    # Points on a line, K computed in float64 both ways: the pooled means must be
    # pool_mean's to float64 round-off, whatever the block and tile boundaries.
    X = np.linspace(0, 3, 1100)[:, None].astype(dtype)
    K = METHODS["jit_centered"].compute(X, None, 2.0, dtype=dtype)
    r = run_blocks(X, 2.0, rows_per_device=7, tile_cols=10)  # f = 3: tiles of 9 columns
    expected, factor = pool_mean(K, MAX_POOLED_SIDE)
    assert factor == 3 and r.pooled.shape == (367, 367)
    # Both sides within the bound of the truth.
    np.testing.assert_allclose(r.pooled, expected, rtol=0, atol=2 * _k_tol(X, None, 2.0, dtype, 3))


def test_matches_the_dense_centered_method(rng):
    # The engine uses the dense "jit_centered" method's form: same numbers to round-off.
    X = rng.normal(size=(700, 4)).astype(np.float32)
    K = METHODS["jit_centered"].compute(X, None, 0.3)
    got = _engine_K(X, 0.3, rows_per_device=128)
    np.testing.assert_allclose(got, K, rtol=0, atol=2 * _k_tol(X, None, 0.3, "float32"))


def test_diagonal_is_exactly_one():
    # Without the explicit zero self-distance the expansion leaves round-off on the
    # diagonal (K[i, i] = 0.99999...), which a user sees as "K is not a kernel matrix".
    X = (np.random.default_rng(3).normal(size=(500, 5)) * 30).astype(np.float32)
    r = run_blocks(X, 1e-3, reductions=BlockReductions(diagonal=True))
    assert np.all(r.diagonal == 1.0)
    K = _engine_K(X, 1e-3, rows_per_device=64)
    assert np.all(np.diag(K) == 1.0)


def test_duplicate_points_never_exceed_one():
    # Identical points at distinct indices: the expansion can round their distance to
    # a tiny negative number, exp of which is above 1. The clip at 0 prevents it.
    rng = np.random.default_rng(5)
    base = (rng.normal(size=(50, 3)) * 1e2 + 10).astype(np.float32)
    X = np.repeat(base, 20, axis=0)
    K = _engine_K(X, 0.5, rows_per_device=256)
    assert K.max() <= 1.0


def test_accurate_far_from_the_origin():
    # float32 points at 1e4 from the origin: the plain expansion loses every digit of
    # the distances there; the engine's one global shift keeps them.
    rng = np.random.default_rng(11)
    X = (rng.normal(size=(600, 3)) + 1e4).astype(np.float32)
    K = _dense(X, None, 0.5)
    r = run_blocks(X, 0.5)
    np.testing.assert_allclose(r.row_sums, K.sum(axis=1), rtol=1e-4)
    np.testing.assert_allclose(r.pooled, pool_mean(K, MAX_POOLED_SIDE)[0], rtol=0, atol=1e-4)


def test_top_k_neighbours(data, dtype):
    X, _ = data(403, None, d=2)
    K = _dense(X, None, 1.0)
    k = 5
    r = run_blocks(X, 1.0, reductions=BlockReductions(top_k=k), rows_per_device=64, tile_cols=50)
    others = K.copy()
    np.fill_diagonal(others, -np.inf)
    order = np.argsort(-others, axis=1, kind="stable")
    ranked = np.take_along_axis(others, order, 1)  # each row's values, descending
    tol = _k_tol(X, None, 1.0, dtype)
    # Entries off by at most tol each: the j-th largest computed value is within tol
    # of the j-th largest true one, and each index found points at such a value.
    np.testing.assert_allclose(r.top_k_values, ranked[:, :k], rtol=0, atol=tol)
    np.testing.assert_allclose(np.take_along_axis(K, r.top_k_indices, 1), r.top_k_values, rtol=0, atol=tol)
    assert np.all(np.sort(r.top_k_indices, axis=1)[:, 1:] != np.sort(r.top_k_indices, axis=1)[:, :-1])
    assert not np.any(r.top_k_indices == np.arange(403)[:, None])  # self excluded
    # Which index holds rank j is fixed only where rank j is more than 2·tol from
    # both neighbours (a near-tie can swap on another CPU): there, exactly.
    gaps = -np.diff(ranked[:, :k + 1], axis=1)  # (N, k): rank j to rank j + 1
    above = np.concatenate([np.full((len(X), 1), np.inf), gaps[:, :-1]], axis=1)
    clear = (gaps > 2 * tol) & (above > 2 * tol)
    assert clear.mean() > 0.9  # the check still covers almost every rank
    np.testing.assert_array_equal(r.top_k_indices[clear], order[:, :k][clear])
    with_self = run_blocks(X, 1.0, reductions=BlockReductions(top_k=1, exclude_self=False))
    np.testing.assert_array_equal(with_self.top_k_indices[:, 0], np.arange(403))


def test_block_shape_does_not_change_the_rows(rng):
    # Rows per step only decide which rows run together: each row's numbers stay the
    # same, bit for bit, when every tile is computed (Y given, even as X itself).
    X = rng.normal(size=(999, 3)).astype(np.float32)
    a = run_blocks(X, 0.3, X, rows_per_device=64)
    b = run_blocks(X, 0.3, X, rows_per_device=250)
    assert not a.symmetric and not b.symmetric
    np.testing.assert_array_equal(a.row_sums, b.row_sums)
    np.testing.assert_array_equal(a.pooled, b.pooled)


def test_symmetric_path_computes_half_and_agrees_with_every_tile(rng, dtype):
    # K(X, X) alone: only tiles reaching each block's diagonal are computed, and each
    # is folded into its rows and (mirrored) its columns. The block size decides
    # which entries are mirrored, so results agree with the full path to round-off
    # (each within its bound of the float64 K), not bit for bit.
    X = rng.normal(size=(999, 3)).astype(dtype)
    K = _dense(X, None, 0.3)
    v = np.linspace(-1, 1, 999)
    red = BlockReductions(matvec=v, diagonal=True)
    for rows in (64, 250):
        r = run_blocks(X, 0.3, reductions=red, rows_per_device=rows, tile_cols=200)
        assert r.symmetric
        plan = r.plan
        assert plan.computed_entries(True) < 0.75 * plan.computed_entries(False)
        expected, f = pool_mean(K, MAX_POOLED_SIDE)
        np.testing.assert_allclose(r.pooled, expected, rtol=0, atol=_k_tol(X, None, 0.3, dtype, 2 * f))
        assert_within(r.row_sums, K.sum(axis=1),
                      _sum_bound(X, None, 0.3, np.ones(999), dtype, max(f, rows)), "row sums")
        assert_within(r.matvec, K @ v,
                      _sum_bound(X, None, 0.3, v, dtype, max(plan.tile_cols, rows)), "K @ v")
        np.testing.assert_array_equal(r.diagonal, np.ones(999, dtype))
    # top-k needs whole rows: it keeps the full path.
    assert not run_blocks(X, 0.3, reductions=BlockReductions(top_k=2)).symmetric


def test_symmetric_partial_result_shows_only_whole_pooled_rows(rng):
    # Stopped after 250 rows with f = 3: pooled row 83 (points 249..251) already holds
    # earlier blocks' mirrored sums for its unfinished points, so it stays blank.
    X = rng.normal(size=(1000, 2)).astype(np.float32)
    full = run_blocks(X, 1.0, rows_per_device=50, devices=ONE)
    steps = []
    with pytest.raises(BlockCancelled) as info:
        run_blocks(X, 1.0, rows_per_device=50, on_progress=lambda *a: steps.append(a),
                   should_stop=lambda: len(steps) >= 5, devices=ONE)
    partial = info.value.partial
    assert partial.symmetric and partial.done_rows == 250 and partial.pool_factor == 3
    np.testing.assert_array_equal(partial.row_sums[:250], full.row_sums[:250])
    np.testing.assert_array_equal(partial.pooled[:83], full.pooled[:83])
    assert np.isnan(partial.pooled[83:]).all()


def test_progress_and_eta(rng):
    X = rng.normal(size=(1000, 2)).astype(np.float32)
    calls = []
    r = run_blocks(X, 1.0, rows_per_device=128, on_progress=lambda *a: calls.append(a),
                   devices=ONE)
    done = [c[0] for c in calls]
    assert done == [128 * i for i in range(1, 8)] + [1000]
    assert all(c[1] == 1000 for c in calls)
    elapsed = [c[2] for c in calls]
    assert elapsed == sorted(elapsed) and r.elapsed_s == pytest.approx(elapsed[-1])
    assert calls[0][3] is None  # the first step compiles: no rate yet
    assert all(c[3] is not None and c[3] >= 0 for c in calls[1:]) and calls[-1][3] == 0


def test_should_stop_abandons_with_a_partial_result(rng):
    X = rng.normal(size=(1000, 2)).astype(np.float32)
    full = run_blocks(X, 1.0, rows_per_device=100, devices=ONE)
    steps = []
    with pytest.raises(BlockCancelled, match="300 of 1,000 rows") as info:
        run_blocks(X, 1.0, rows_per_device=100, on_progress=lambda *a: steps.append(a),
                   should_stop=lambda: len(steps) >= 3, devices=ONE)
    partial = info.value.partial
    assert isinstance(info.value, CoreError)
    assert not partial.complete and partial.done_rows == 300 and partial.fraction == 0.3
    np.testing.assert_array_equal(partial.row_sums[:300], full.row_sums[:300])
    assert np.isnan(partial.row_sums[300:]).all()
    # f = 3 here: pooled rows 0..99 (points 0..299) are done, the rest is blank, not zero.
    assert partial.pool_factor == 3
    np.testing.assert_array_equal(partial.pooled[:100], full.pooled[:100])
    assert np.isnan(partial.pooled[100:]).all()


def test_a_run_runs_once(rng):
    run = BlockRun(rng.normal(size=(10, 2)), 1.0)
    list(run.steps())
    with pytest.raises(RuntimeError, match="runs once"):
        list(run.steps())


def test_plan_keeps_memory_independent_of_n():
    # A million points: the tile, the steps in flight and the results stay small.
    plan = plan_blocks(1_000_000, 1_000_000, platform="cpu")
    assert max(plan.pooled_shape) <= MAX_POOLED_SIDE
    assert plan.rows_per_device * plan.tile_cols <= 2 * 256 * 4096
    assert plan.device_bytes(8, 4) < 256 * 1024**2
    assert plan.host_bytes(4) < 64 * 1024**2
    assert plan.tile_cols % plan.pool == 0
    small = plan_blocks(8000, 8000, platform="cpu")
    # Tiles are whole pooled columns (a multiple of f), so their size moves with
    # f's rounding, within a factor of 2, never with N.
    ratio = (small.rows_per_device * small.tile_cols) / (plan.rows_per_device * plan.tile_cols)
    assert 0.5 <= ratio <= 2, ratio


def test_bad_input_is_refused_with_a_reason(rng):
    X = rng.normal(size=(20, 2))
    with pytest.raises(ValueError, match="gamma must be a positive"):
        run_blocks(X, 0.0)
    with pytest.raises(DataError, match="NaN or infinite"):
        run_blocks(np.where(X > 1.5, np.nan, X), 1.0)
    with pytest.raises(ValueError, match="same number of columns"):
        run_blocks(X, 1.0, rng.normal(size=(5, 3)))
    with pytest.raises(ValueError, match="top_k = 20 is out of range"):
        run_blocks(X, 1.0, reductions=BlockReductions(top_k=20))
    with pytest.raises(ValueError, match="length M = 20"):
        run_blocks(X, 1.0, reductions=BlockReductions(matvec=np.ones(3)))


def test_same_results_without_the_cpu_fusion_option(monkeypatch):
    # A jaxlib that does not know the CPU fusion option the step asks for must still run
    # the engine (with XLA's default fusions), and give the dense result: tiles right of
    # their block (no masks at all) and the masked diagonal tiles alike.
    from core.scale import step

    rng = np.random.default_rng(3)
    X = rng.normal(size=(700, 2)).astype(np.float32)
    K = _dense(X, None, 0.7)
    assert step._cpu_fusion_options() is not None  # this machine's jaxlib knows it
    monkeypatch.setattr(step, "_YNN_TYPES", "NOT_A_FUSION_TYPE")
    step._cpu_fusion_options.cache_clear()
    step._compiled_step.cache_clear()
    try:
        assert step._cpu_fusion_options() is None
        r = run_blocks(X, 0.7, rows_per_device=64, tile_cols=128)
    finally:
        monkeypatch.undo()
        step._cpu_fusion_options.cache_clear()
        step._compiled_step.cache_clear()
    assert r.symmetric
    assert_within(r.row_sums, K.sum(axis=1),
                  _sum_bound(X, None, 0.7, np.ones(700), np.float32, 64), "row sums")
    assert_within(r.pooled, pool_mean(K, MAX_POOLED_SIDE)[0], _k_tol(X, None, 0.7, "float32", 2),
                  "pooled means")
