"""The block engine's host side: `BlockRun` steps through a plan, accumulates the
reductions, reports progress and can stop at any step; `run_blocks` runs it to the end.

Distances use the centered expansion with ONE shift for all blocks (the mean of
the points, computed once in float64): a shared shift leaves distances unchanged,
keeps the expansion accurate far from the origin, and, being global, makes every
block agree with the dense centered method (`core.dense.methods`, "jit_centered").
"""

from __future__ import annotations

import math
import time
from typing import Callable, Iterator, Sequence

import jax
import numpy as np
from jax.sharding import NamedSharding, PartitionSpec as P
from numpy.typing import ArrayLike, DTypeLike

from core.kernels.distances import check_feature_sizes
from core.kernels.numerics import shared_shift
from core.errors import DataError
from core.scale.pooling import MAX_POOLED_SIDE
from core.precision import as_float_array, dtype_scope
from core.scale.plan import BlockCancelled, BlockProgress, BlockReductions, BlockResult, plan_blocks
from core.scale.step import _compiled_step, _replicated, _to_host, row_mesh

__all__ = ["BlockRun", "run_blocks"]


def _centered(X: ArrayLike, Y: ArrayLike | None, dtype: DTypeLike | None
              ) -> tuple[np.ndarray, np.ndarray, bool]:
    """Validated rows (N, D) and columns (M, D), shifted by `shared_shift`."""
    X = as_float_array(X, dtype)
    same = Y is None
    Yv = X if same else as_float_array(Y, X.dtype)
    check_feature_sizes(X, Yv)
    if X.shape[0] < 1 or Yv.shape[0] < 1:
        raise DataError("The block engine needs at least one point in X and in Y.")
    if not (np.isfinite(X).all() and np.isfinite(Yv).all()):
        raise DataError("The data contains NaN or infinite values: remove or replace them first.")
    # One shift for every block (not one per block): distances do not change, the
    # expansion stays accurate far from the origin, and all blocks agree.
    rows, cols = shared_shift(X, None if same else Yv)
    return rows, cols, same


def _check_gamma(gamma: float) -> float:
    gamma = float(gamma)
    if not math.isfinite(gamma) or gamma <= 0:
        raise ValueError(f"gamma must be a positive number, got {gamma}.")
    return gamma


class BlockRun:
    """One block computation of K(X, Y), stepped by `steps()`; `result()` at any time.

    A run holds the data once on each device and the float64 accumulators on the
    host; `steps()` computes one step (all devices) at a time and dispatches the
    next before folding the last, so the host's share overlaps the devices' work.
    Stopping early (breaking out of `steps()`, or an exception in the caller)
    leaves `result()` with the rows done so far.

    Args:
      X: (N, D) points.
      gamma: the RBF's gamma, > 0.
      Y: (M, D) points, or None for K(X, X).
      reductions: what else to compute (`BlockReductions`); None: pooled means
        and row sums only.
      rows_per_device, tile_cols: see `plan_blocks`.
      devices: the devices to shard rows over; None: all of JAX's devices.
      dtype: "float32" (default for non-float64 data) or "float64".
      max_side: the pooled means have at most this many cells a side.
    """

    def __init__(self, X: ArrayLike, gamma: float, Y: ArrayLike | None = None, *,
                 reductions: BlockReductions | None = None, rows_per_device: int | None = None,
                 tile_cols: int | None = None, devices: Sequence[jax.Device] | None = None,
                 dtype: DTypeLike | None = None, max_side: int = MAX_POOLED_SIDE):
        self.reductions = reductions or BlockReductions()
        self.gamma = _check_gamma(gamma)
        rows, cols, self.same = _centered(X, Y, dtype)
        self.dtype = rows.dtype
        self.mesh = row_mesh(devices)
        n, m, d = rows.shape[0], cols.shape[0], rows.shape[1]
        self.plan = plan = plan_blocks(n, m, n_devices=self.mesh.devices.size,
                                       rows_per_device=rows_per_device, tile_cols=tile_cols,
                                       max_side=max_side, platform=self.mesh.devices.flat[0].platform)
        red = self.reductions
        if red.top_k < 0 or red.top_k > m - (1 if red.exclude_self and self.same else 0):
            raise ValueError(f"top_k = {red.top_k} is out of range for {m:,} columns.")
        v = np.zeros(plan.n_tiles * plan.tile_cols, self.dtype)
        if red.matvec is not None:
            vec = np.asarray(red.matvec, dtype=np.float64).reshape(-1)
            if vec.shape != (m,) or not np.isfinite(vec).all():
                raise ValueError(f"v must be a finite vector of length M = {m:,}, got shape "
                                 f"{np.shape(red.matvec)}.")
            v[:m] = vec
        # Padding: rows to whole steps, columns to whole tiles (masked in rbf_tile).
        rows_pad = np.zeros((plan.n_blocks * plan.block_rows, d), self.dtype)
        rows_pad[:n] = rows
        cols_pad = np.zeros((plan.n_tiles * plan.tile_cols, d), self.dtype)
        cols_pad[:m] = cols
        # K(X, X) is symmetric: without top-k (which needs whole rows) each block
        # computes only the tiles from its diagonal on (see `block_step`).
        self.symmetric = self.same and not red.top_k
        v_rows = np.zeros(max(rows_pad.shape[0], v.size) if self.symmetric else 1, self.dtype)
        if self.symmetric:
            v_rows[:m] = v[:m]
        replicated = NamedSharding(self.mesh, P())
        with dtype_scope(self.dtype):
            self._args = [_replicated(a, replicated) for a in (
                rows_pad, cols_pad.reshape(plan.n_tiles, plan.tile_cols, d),
                v.reshape(plan.n_tiles, plan.tile_cols), v_rows, np.asarray(self.gamma, self.dtype))]
        self._step = _compiled_step(
            self.mesh, rows_per_device=plan.rows_per_device, n_cols=m, same=self.same,
            pool=plan.pool, matvec=red.matvec is not None, diagonal=red.diagonal,
            top_k=red.top_k, exclude_self=red.exclude_self, symmetric=self.symmetric)
        pn, pm = plan.pooled_shape
        self._pooled_sums = np.zeros((pn, pm))
        self._pooled_rows = np.zeros(pn, np.int64)
        self._col_counts = np.minimum(plan.pool, m - np.arange(pm) * plan.pool)
        self._row_sums = np.full(n, np.nan)
        if self.symmetric:  # what earlier blocks' column reductions owe each later row
            self._col_sums = np.zeros(n)
            self._col_matvec = np.zeros(n) if red.matvec is not None else None
            self._pooled_lower = np.zeros((pn, pm))
        self._matvec = np.full(n, np.nan) if red.matvec is not None else None
        self._diagonal = np.full(min(n, m), np.nan, self.dtype) if red.diagonal else None
        k = red.top_k
        self._top_values = np.full((n, k), np.nan, self.dtype) if k else None
        self._top_indices = np.full((n, k), -1, np.int32) if k else None
        self.done_rows = 0
        self._started = False
        self._t0 = self._t_first = None
        self._first_rows = 0
        self._elapsed = 0.0

    @property
    def complete(self) -> bool:
        return self.done_rows == self.plan.n

    def _dispatch(self, start: int) -> dict[str, jax.Array]:
        with dtype_scope(self.dtype):
            return self._step(np.int32(start), *self._args)

    def _fold(self, start: int, out: dict[str, jax.Array]) -> None:
        """Add one finished step's outputs into the host's accumulators."""
        plan = self.plan
        stop = min(start + plan.block_rows, plan.n)
        k = stop - start
        pm = plan.pooled_shape[1]
        # Rows of this step fall into one or more pooled rows; count each run of them.
        cell = np.arange(start, stop) // plan.pool
        first = np.flatnonzero(np.r_[True, cell[1:] != cell[:-1]])
        if self.symmetric:  # the device summed each pooled row group already
            self._fold_columns(start, out)
            rows = _to_host(out["row_sums"]).astype(np.float64).sum(axis=0)[:k]
            self._row_sums[start:stop] = self._col_sums[start:stop] + rows
        else:
            groups = _to_host(out["groups"])  # (n_tiles, block_rows, groups_per_tile)
            groups = groups.transpose(1, 0, 2).reshape(plan.block_rows, -1)[:k, :pm]
            groups = groups.astype(np.float64)
            self._row_sums[start:stop] = groups.sum(axis=1)
            self._pooled_sums[cell[first]] += np.add.reduceat(groups, first, axis=0)
        self._pooled_rows[cell[first]] += np.diff(np.r_[first, k])
        if self._matvec is not None:
            self._matvec[start:stop] = _to_host(out["matvec"]).astype(np.float64).sum(axis=0)[:k]
            if self.symmetric:
                self._matvec[start:stop] += self._col_matvec[start:stop]
        if self._diagonal is not None and start < self._diagonal.size:
            end = min(stop, self._diagonal.size)
            self._diagonal[start:end] = _to_host(out["diagonal"])[:end - start]
        if self._top_values is not None:
            self._top_values[start:stop] = _to_host(out["top_values"])[:k]
            self._top_indices[start:stop] = _to_host(out["top_indices"])[:k]
        self.done_rows = stop

    def _fold_columns(self, start: int, out: dict[str, jax.Array]) -> None:
        """Symmetric path: add each device's pooled sums, and its column reductions to the later rows they belong to.

        Devices in order (device r had rows start + r·B onwards), so the float64 sums are
        added in the same order whatever the number of devices; a block's column
        reductions only reach rows after the block, so its own rows are already final.
        """
        plan, m = self.plan, self.plan.m
        b, pm = plan.rows_per_device, plan.pooled_shape[1]
        col_sums = _to_host(out["col_sums"]).reshape(plan.n_devices, -1)[:, :m].astype(np.float64)
        # (devices, n_tiles, G, T // pool) -> (devices, G, pooled columns)
        pooled, groups = (_to_host(out[key]) for key in ("pooled", "col_groups"))
        pooled, groups = (a.transpose(0, 2, 1, 3).reshape(plan.n_devices, a.shape[2], -1)
                          for a in (pooled, groups))
        col_mv = None if self._col_matvec is None else \
            _to_host(out["col_matvec"]).reshape(plan.n_devices, -1)[:, :m].astype(np.float64)
        for r in range(plan.n_devices):
            first = start + r * b
            if first >= plan.n:
                break
            self._col_sums += col_sums[r]
            if col_mv is not None:
                self._col_matvec += col_mv[r]
            # Row group I0 + g of block rows, column group J: the entry (I0 + g, J) of
            # the pooled sums, and (J, I0 + g) of the lower triangle's.
            i0 = first // plan.pool
            g = min(groups.shape[1], plan.pooled_shape[0] - i0)
            self._pooled_sums[i0:i0 + g] += pooled[r, :g, :pm].astype(np.float64)
            self._pooled_lower[:, i0:i0 + g] += groups[r, :g, :pm].T.astype(np.float64)

    def _progress(self) -> BlockProgress:
        now = time.perf_counter()
        self._elapsed = now - self._t0
        if self._t_first is None:  # the first step carries the compile: rate from after it
            self._t_first, self._first_rows = now, self.done_rows
        eta = None
        if self.done_rows > self._first_rows:
            rate = (self.done_rows - self._first_rows) / (now - self._t_first)
            eta = (self.plan.n - self.done_rows) / rate
        return BlockProgress(self.done_rows, self.plan.n, self._elapsed,
                             0.0 if self.complete else eta)

    def steps(self) -> Iterator[BlockProgress]:
        """Compute the run step by step, yielding progress after each; once only."""
        if self._started:
            raise RuntimeError("A BlockRun runs once: make a new one to run again.")
        self._started = True
        self._t0 = time.perf_counter()
        pending = None
        for start in range(0, self.plan.n, self.plan.block_rows):
            out = self._dispatch(start)  # asynchronous: runs while the last one is folded
            if pending is not None:
                self._fold(*pending)
                yield self._progress()
            pending = (start, out)
        self._fold(*pending)
        yield self._progress()

    def result(self) -> BlockResult:
        """The results so far (complete once `steps()` is exhausted).

        `done_rows` is read first: a run abandoned by one Streamlit script thread can
        still be finishing a step when the next thread asks, and rows counted as done
        must already be written in the copies below.
        """
        done = self.done_rows
        sums, rows = self._pooled_sums, self._pooled_rows
        if self.symmetric:
            # Later rows of a pooled row already hold earlier blocks' column sums: show
            # a pooled row only once all its rows are done.
            sums = sums + self._pooled_lower
            whole = np.minimum(self.plan.pool, self.plan.n - np.arange(rows.size) * self.plan.pool)
            rows = np.where(rows == whole, rows, 0)
        with np.errstate(invalid="ignore", divide="ignore"):
            counts = rows[:, None] * self._col_counts[None, :]
            pooled = np.where(counts > 0, sums / counts, np.nan)
        copy = lambda a: None if a is None else a.copy()
        return BlockResult(
            pooled=pooled.astype(self.dtype), pool_factor=self.plan.pool,
            row_sums=self._row_sums.copy(), matvec=copy(self._matvec),
            diagonal=copy(self._diagonal), top_k_values=copy(self._top_values),
            top_k_indices=copy(self._top_indices), done_rows=done,
            elapsed_s=self._elapsed, plan=self.plan, dtype=self.dtype.name,
            first_step_s=0.0 if self._t_first is None else self._t_first - self._t0,
            first_step_rows=self._first_rows, symmetric=self.symmetric)


def run_blocks(
    X: ArrayLike,
    gamma: float,
    Y: ArrayLike | None = None,
    *,
    reductions: BlockReductions | None = None,
    rows_per_device: int | None = None,
    tile_cols: int | None = None,
    devices: Sequence[jax.Device] | None = None,
    dtype: DTypeLike | None = None,
    max_side: int = MAX_POOLED_SIDE,
    on_progress: Callable[[int, int, float, float | None], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> BlockResult:
    """K(X, Y) for the RBF kernel, reduced block by block; never holds N × M.

    Args:
      X, gamma, Y, reductions, rows_per_device, tile_cols, devices, dtype,
        max_side: as in `BlockRun`.
      on_progress: called after every step as
        `on_progress(done_rows, total_rows, elapsed_s, eta_s)`; eta_s is None
        until a step after the first (which compiles) has finished.
      should_stop: checked after every step; True abandons the run.

    Returns:
      The complete `BlockResult`.

    Raises:
      BlockCancelled: `should_stop()` returned True; its `partial` has the rows done.
    """
    run = BlockRun(X, gamma, Y, reductions=reductions, rows_per_device=rows_per_device,
                   tile_cols=tile_cols, devices=devices, dtype=dtype, max_side=max_side)
    for p in run.steps():
        if on_progress is not None:
            on_progress(p.done_rows, p.total_rows, p.elapsed_s, p.eta_s)
        if should_stop is not None and not run.complete and should_stop():
            raise BlockCancelled(f"Stopped after {p.done_rows:,} of {p.total_rows:,} rows; "
                                 "run it again for the full result.", run.result())
    return run.result()
