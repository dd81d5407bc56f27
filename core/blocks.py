"""The block engine: a Gram matrix far past memory, computed in blocks and reduced as it goes.

K[i, j] = exp(-gamma |x_i - y_j|^2) for a million points is 3.6 TiB in float32. The
engine never holds it. Each step takes a block of rows and walks the columns in
tiles small enough for the CPU cache (`lax.scan`), folding every tile into small
results at once: sums over groups of columns (from which the host builds the pooled
means a heatmap shows and the row sums), K @ v, the diagonal, the top-k neighbours
of each row. Peak memory is a few tiles plus the results, whatever N is, and the
time grows as N·M.

Rows are sharded over all local JAX devices with `jax.shard_map` on a one-axis
`Mesh` named "rows": every device gets `rows_per_device` rows of each step and all
the columns, so one device and eight run the same per-device program and give the
same numbers (tests/core/test_sharding.py).

Distances use the centered expansion with ONE shift for all blocks (the mean of
the points, computed once in float64): a shared shift leaves distances unchanged,
keeps the expansion accurate far from the origin, and, being global, makes every
block agree with the dense centered method (`core.methods`, "jit_centered").
"""

from __future__ import annotations

import dataclasses
import functools
import math
import time
from typing import Callable, Iterator, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P
from numpy.typing import ArrayLike, DTypeLike

from core.distances import check_feature_sizes
from core.errors import CoreError, DataError
from core.pooling import pool_factor
from core.precision import as_float_array, dtype_scope

__all__ = [
    "ROW_AXIS",
    "BlockCancelled",
    "BlockReductions",
    "BlockPlan",
    "BlockProgress",
    "BlockResult",
    "BlockRun",
    "default_block_shape",
    "plan_blocks",
    "row_mesh",
    "rbf_tile",
    "block_step",
    "run_blocks",
    "iter_row_blocks",
]

ROW_AXIS = "rows"
MAX_POOLED_SIDE = 448  # the heatmap's cells a side (ui.charts.MAX_HEATMAP_SIDE: its message stays < 1.5 MB)
# Rows per device and columns per tile. CPU: a 256 × 4096 float32 tile is 4 MiB, it
# stays in cache; measured fastest in benchmarks/block_engine.py. Accelerators want
# far more work per launch: a starting point, not a measurement (docs/SCALING.md).
_CPU_SHAPE = (256, 4096)
_ACCELERATOR_SHAPE = (2048, 32768)


class BlockCancelled(CoreError):
    """`should_stop()` asked to abandon a block run; `partial` holds what was done."""

    def __init__(self, message: str, partial: BlockResult):
        super().__init__(message)
        self.partial = partial


@dataclasses.dataclass(frozen=True, eq=False)
class BlockReductions:
    """What the engine computes besides the pooled means and row sums (always on).

    Attributes:
      matvec: v of shape (M,) for K @ v, or None.
      diagonal: compute K[i, i] for i < min(N, M).
      top_k: the k largest entries of each row and their column indices (0: none).
      exclude_self: leave j == i out of the top k when Y is X (a point is its own
        nearest neighbour otherwise).
    """

    matvec: np.ndarray | None = None
    diagonal: bool = False
    top_k: int = 0
    exclude_self: bool = True


@dataclasses.dataclass(frozen=True)
class BlockPlan:
    """How an (N, M) Gram matrix is cut: steps of row blocks, each walked in column tiles.

    Attributes:
      n, m: the shape of K.
      rows_per_device: rows each device computes per step.
      n_devices: devices the rows are sharded over.
      pool: the pooling factor f: a pooled cell is the mean of an f × f block.
      groups_per_tile: pooled column groups (of f columns) in one tile.
      n_tiles: tiles per row block; the last one is padded.
    """

    n: int
    m: int
    rows_per_device: int
    n_devices: int
    pool: int
    groups_per_tile: int
    n_tiles: int

    @property
    def block_rows(self) -> int:
        """Rows per step over all devices."""
        return self.rows_per_device * self.n_devices

    @property
    def tile_cols(self) -> int:
        """Columns per tile, a multiple of `pool` so no pooled group straddles two tiles."""
        return self.groups_per_tile * self.pool

    @property
    def n_blocks(self) -> int:
        """Steps needed for all N rows (the last one padded)."""
        return math.ceil(self.n / self.block_rows)

    @property
    def pooled_shape(self) -> tuple[int, int]:
        """Shape of the pooled means, (ceil(N / f), ceil(M / f)), as `core.pooling.pool_mean`."""
        return math.ceil(self.n / self.pool), math.ceil(self.m / self.pool)

    def device_bytes(self, d: int, itemsize: int = 4, top_k: int = 0) -> int:
        """Estimated peak bytes on each device: the data, two steps in flight, a tile's temporaries."""
        data = (self.n_blocks * self.block_rows + self.n_tiles * self.tile_cols) * (d + 1) * itemsize
        outputs = 2 * self.n_tiles * self.rows_per_device * (self.groups_per_tile + 1) * itemsize
        tile = 4 * self.rows_per_device * self.tile_cols * itemsize  # d², K, and two scratch copies
        return data + outputs + tile + 2 * self.rows_per_device * top_k * (itemsize + 4) * 4

    def host_bytes(self, itemsize: int = 4, top_k: int = 0, matvec: bool = False) -> int:
        """Bytes of the results on the host (float64 accumulators)."""
        pn, pm = self.pooled_shape
        per_row = 8 + (8 if matvec else 0) + top_k * (itemsize + 4)
        return 8 * pn * pm + 8 * pn + self.n * per_row


def default_block_shape(platform: str | None = None) -> tuple[int, int]:
    """(rows per device, columns per tile) for a JAX platform ("cpu", "gpu", "tpu")."""
    platform = platform or jax.default_backend()
    return _CPU_SHAPE if platform == "cpu" else _ACCELERATOR_SHAPE


def plan_blocks(
    n: int,
    m: int,
    *,
    n_devices: int = 1,
    rows_per_device: int | None = None,
    tile_cols: int | None = None,
    max_side: int = MAX_POOLED_SIDE,
    platform: str | None = None,
) -> BlockPlan:
    """Block and tile sizes for an (n, m) matrix on `n_devices` devices.

    Args:
      n, m: the shape of K.
      n_devices: devices the rows of each step are sharded over.
      rows_per_device: rows each device computes per step; None picks the
        platform's default, shrunk so the last block is not mostly padding.
      tile_cols: about how many columns per tile (rounded to whole pooled groups);
        None: the platform's default.
      max_side: the pooled means have at most this many cells a side.
      platform: for the defaults; None: JAX's default backend.

    Returns:
      The `BlockPlan`.
    """
    if n < 1 or m < 1 or n_devices < 1:
        raise ValueError(f"Need n, m, n_devices >= 1, got {n}, {m}, {n_devices}.")
    default_rows, default_cols = default_block_shape(platform)
    pool = pool_factor(max(n, m), max_side)
    groups = math.ceil(m / pool)
    # Even tiles: n_tiles as few as the target allows, then as little padding as possible.
    per_tile = max(1, (tile_cols or default_cols) // pool)
    n_tiles = math.ceil(groups / per_tile)
    per_tile = math.ceil(groups / n_tiles)
    if rows_per_device is None:
        n_blocks = math.ceil(n / (default_rows * n_devices))
        rows_per_device = math.ceil(n / (n_blocks * n_devices))
    if rows_per_device < 1:
        raise ValueError(f"rows_per_device must be at least 1, got {rows_per_device}.")
    return BlockPlan(n=n, m=m, rows_per_device=int(rows_per_device), n_devices=n_devices,
                     pool=pool, groups_per_tile=per_tile, n_tiles=n_tiles)


@dataclasses.dataclass(frozen=True)
class BlockProgress:
    """Where a run stands after a step.

    Attributes:
      done_rows, total_rows: rows of K finished so far, and N.
      elapsed_s: seconds since the run started (the first step's compile included).
      eta_s: seconds left at the rate since the first step; None until known.
    """

    done_rows: int
    total_rows: int
    elapsed_s: float
    eta_s: float | None

    @property
    def fraction(self) -> float:
        return self.done_rows / self.total_rows


@dataclasses.dataclass(frozen=True)
class BlockResult:
    """What a block run computed (complete, or partial when it was stopped).

    Attributes:
      pooled: (ceil(N / f), ceil(M / f)) means of f × f blocks of K, in the compute
        dtype, equal to `core.pooling.pool_mean(K)` to round-off; cells of rows not
        yet computed are NaN.
      pool_factor: f (1: `pooled` is K itself).
      row_sums: (N,) float64, sum_j K[i, j]; NaN for rows not yet computed.
      matvec: (N,) float64, K @ v, or None.
      diagonal: (min(N, M),) K[i, i], or None.
      top_k_values, top_k_indices: (N, k) largest entries of each row, descending,
        and their columns (int32, -1 for rows not computed); None when k = 0.
      done_rows: rows finished (the first `done_rows` rows, in order).
      elapsed_s: wall time of the run.
      first_step_s, first_step_rows: time to the first folded step (it compiles) and
        the rows done by then; the steady rate is measured after them.
      plan: the block plan it ran.
      dtype: the compute dtype, "float32" or "float64".
    """

    pooled: np.ndarray
    pool_factor: int
    row_sums: np.ndarray
    matvec: np.ndarray | None
    diagonal: np.ndarray | None
    top_k_values: np.ndarray | None
    top_k_indices: np.ndarray | None
    done_rows: int
    elapsed_s: float
    plan: BlockPlan
    dtype: str
    first_step_s: float = 0.0
    first_step_rows: int = 0

    @property
    def complete(self) -> bool:
        return self.done_rows == self.plan.n

    @property
    def fraction(self) -> float:
        return self.done_rows / self.plan.n

    @property
    def seconds_per_entry(self) -> float:
        """Wall time per entry of K computed (the first step's compile included)."""
        return self.elapsed_s / max(1, self.done_rows * self.plan.m)

    @property
    def steady_seconds_per_entry(self) -> float | None:
        """Wall time per entry after the first step (no compile); None with one step."""
        rows = self.done_rows - self.first_step_rows
        return (self.elapsed_s - self.first_step_s) / (rows * self.plan.m) if rows > 0 else None


# --- the math: one tile of K, and one device's share of one step -------------

def rbf_tile(rows: jax.Array, row_ids: jax.Array, cols: jax.Array, col_ids: jax.Array,
             gamma: jax.Array, n_cols: int, same: bool) -> jax.Array:
    """One tile of the RBF Gram matrix, from centered points.

    Args:
      rows: (B, D) points, already shifted by the run's one global mean.
      row_ids: (B,) their row numbers in K.
      cols: (T, D) points, shifted by the same mean; rows past `n_cols` are padding.
      col_ids: (T,) their column numbers in K.
      gamma: scalar.
      n_cols: M; columns at or past it are padding and come out as exactly 0.
      same: True when the columns are the rows' own points (Y is X).

    Returns:
      (B, T) kernel values in the dtype of `rows`.
    """
    # -gamma |x - y|² = 2γ x·y - γ|x|² - γ|y|²: ONE matrix product of augmented
    # factors [2γx, -γ|x|², 1] · [y, 1, -γ|y|²] gives the exponent, so the only
    # (B, T) arrays are the product and K (measured ~1.5× less work than a product
    # followed by the norms and gamma as separate (B, T) operations).
    one_r, one_c = jnp.ones_like(rows[:, :1]), jnp.ones_like(cols[:, :1])
    left = jnp.concatenate([2 * gamma * rows, -gamma * jnp.sum(rows * rows, 1, keepdims=True),
                            one_r], axis=1)
    right = jnp.concatenate([cols, one_c, -gamma * jnp.sum(cols * cols, 1, keepdims=True)],
                            axis=1)
    # HIGHEST: accelerators otherwise multiply float32 in reduced precision (TF32),
    # which the expansion turns into large distance errors.
    exponent = jnp.dot(left, right.T, precision=jax.lax.Precision.HIGHEST)
    # Round-off can leave the exponent slightly positive (a squared distance slightly
    # negative); clipping at 0 keeps every K <= 1.
    exponent = jnp.minimum(exponent, 0)
    if same:  # K[i, i] is exactly 1, as in the dense method; the expansion leaves round-off
        exponent = jnp.where(row_ids[:, None] == col_ids[None, :], 0, exponent)
    K = jnp.exp(exponent)
    return jnp.where(col_ids[None, :] < n_cols, K, 0)


def block_step(start, rows_all, cols_t, v_t, gamma, *, rows_per_device: int, n_cols: int,
               same: bool, pool: int, matvec: bool, diagonal: bool, top_k: int,
               exclude_self: bool) -> dict[str, jax.Array]:
    """One device's share of one step: its rows of K against every column, reduced.

    Runs inside `jax.shard_map` over the "rows" axis: device r takes rows
    `start + r * rows_per_device` onwards. Only sums over groups of `pool` columns
    (and the other reductions) leave the device, never a tile of K.

    Args:
      start: int32 scalar, the step's first row.
      rows_all: (N_pad, D) all centered rows, padded to whole steps.
      cols_t: (n_tiles, T, D) the centered columns cut into tiles.
      v_t: (n_tiles, T) the vector of K @ v in the same tiles (zeros if unused).
      gamma: scalar.
      rows_per_device, n_cols, same, pool, matvec, diagonal, top_k, exclude_self:
        static: the block shape, M, Y is X, the pooling factor, what to reduce.

    Returns:
      {"groups": (n_tiles, B, T // pool) column-group sums, "matvec": (n_tiles, B)
      partial sums, "diagonal": (B,), "top_values", "top_indices": (B, top_k)},
      the last four only when asked for; B = rows_per_device.
    """
    b, n_tiles, tile_cols = rows_per_device, cols_t.shape[0], cols_t.shape[1]
    offset = start + jax.lax.axis_index(ROW_AXIS) * b
    rows = jax.lax.dynamic_slice_in_dim(rows_all, offset, b)
    row_ids = offset + jnp.arange(b, dtype=offset.dtype)

    def tile(carry, xs):
        cols, v, first = xs
        col_ids = first + jnp.arange(tile_cols, dtype=first.dtype)
        K = rbf_tile(rows, row_ids, cols, col_ids, gamma, n_cols, same)
        out = {"groups": K.reshape(b, tile_cols // pool, pool).sum(axis=-1)}
        if matvec:  # per-tile partial sums: the host adds them in float64
            out["matvec"] = jnp.sum(K * v[None, :], axis=1)
        carry = dict(carry)
        self_mask = row_ids[:, None] == col_ids[None, :]  # unused ones are compiled away
        if diagonal:
            carry["diagonal"] = carry["diagonal"] + jnp.sum(jnp.where(self_mask, K, 0), axis=1)
        if top_k:
            scores = jnp.where(col_ids[None, :] < n_cols, K, -jnp.inf)
            if exclude_self and same:
                scores = jnp.where(self_mask, -jnp.inf, scores)
            vals, idx = jax.lax.top_k(scores, top_k)
            # Merge with the best so far; earlier columns first, so ties keep the lower index.
            vals = jnp.concatenate([carry["top_values"], vals], axis=1)
            idx = jnp.concatenate([carry["top_indices"], first + idx.astype(first.dtype)], axis=1)
            carry["top_values"], pick = jax.lax.top_k(vals, top_k)
            carry["top_indices"] = jnp.take_along_axis(idx, pick, axis=1)
        return carry, out

    carry = {}
    if diagonal:
        carry["diagonal"] = jnp.zeros(b, rows.dtype)
    if top_k:
        carry["top_values"] = jnp.full((b, top_k), -jnp.inf, rows.dtype)
        carry["top_indices"] = jnp.full((b, top_k), -1, offset.dtype)
    firsts = jnp.arange(n_tiles, dtype=offset.dtype) * tile_cols
    carry, outs = jax.lax.scan(tile, carry, (cols_t, v_t, firsts))
    return {**outs, **carry}


_OUT_SPECS = {"groups": P(None, ROW_AXIS, None), "matvec": P(None, ROW_AXIS),
              "diagonal": P(ROW_AXIS), "top_values": P(ROW_AXIS, None),
              "top_indices": P(ROW_AXIS, None)}


@functools.lru_cache(maxsize=16)
def _compiled_step(mesh: Mesh, **static) -> Callable[..., dict[str, jax.Array]]:
    """`block_step` sharded over `mesh` by rows and jitted, one per mesh and static setup."""
    keys = ["groups"] + [k for k, on in (("matvec", static["matvec"]),
                                          ("diagonal", static["diagonal"]),
                                          ("top_values", static["top_k"]),
                                          ("top_indices", static["top_k"])) if on]
    # Inputs are replicated (every device sees all rows and columns: N·D is small);
    # outputs are split by rows. check_vma=False: the scan's carry starts replicated
    # and becomes per-device through axis_index, which the checker would reject.
    step = jax.shard_map(functools.partial(block_step, **static), mesh=mesh,
                         in_specs=(P(),) * 5, out_specs={k: _OUT_SPECS[k] for k in keys},
                         check_vma=False)
    return jax.jit(step)


def row_mesh(devices: Sequence[jax.Device] | None = None) -> Mesh:
    """A one-axis mesh named "rows" over `devices` (None: all of JAX's devices)."""
    devices = list(jax.devices() if devices is None else devices)
    if not devices:
        raise ValueError("No devices to run on.")
    return Mesh(np.array(devices), (ROW_AXIS,))


def _replicated(a: np.ndarray, sharding: NamedSharding) -> jax.Array:
    """`a` on every device of `sharding`'s mesh (every process passes the same `a`)."""
    if sharding.is_fully_addressable:
        return jax.device_put(a, sharding)
    # Several processes (jax.distributed): each one fills its own devices.
    return jax.make_array_from_callback(a.shape, sharding, lambda index: a[index])


def _to_host(x: jax.Array) -> np.ndarray:
    # Across several processes (jax.distributed) a sharded output is not all here.
    if x.is_fully_addressable:
        return np.asarray(x)
    from jax.experimental import multihost_utils
    return np.asarray(multihost_utils.process_allgather(x, tiled=True))


def _centered(X: ArrayLike, Y: ArrayLike | None, dtype: DTypeLike | None
              ) -> tuple[np.ndarray, np.ndarray, bool]:
    """Validated rows (N, D) and columns (M, D), shifted by one shared float64 mean."""
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
    mean = (X.sum(axis=0, dtype=np.float64) + (0 if same else Yv.sum(axis=0, dtype=np.float64))) \
        / (X.shape[0] + (0 if same else Yv.shape[0]))
    rows = (X - mean).astype(X.dtype)
    return rows, rows if same else (Yv - mean).astype(X.dtype), same


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
        replicated = NamedSharding(self.mesh, P())
        with dtype_scope(self.dtype):
            self._args = [_replicated(a, replicated) for a in (
                rows_pad, cols_pad.reshape(plan.n_tiles, plan.tile_cols, d),
                v.reshape(plan.n_tiles, plan.tile_cols), np.asarray(self.gamma, self.dtype))]
        self._step = _compiled_step(
            self.mesh, rows_per_device=plan.rows_per_device, n_cols=m, same=self.same,
            pool=plan.pool, matvec=red.matvec is not None, diagonal=red.diagonal,
            top_k=red.top_k, exclude_self=red.exclude_self)
        pn, pm = plan.pooled_shape
        self._pooled_sums = np.zeros((pn, pm))
        self._pooled_rows = np.zeros(pn, np.int64)
        self._col_counts = np.minimum(plan.pool, m - np.arange(pm) * plan.pool)
        self._row_sums = np.full(n, np.nan)
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
        groups = _to_host(out["groups"])  # (n_tiles, block_rows, groups_per_tile)
        groups = groups.transpose(1, 0, 2).reshape(plan.block_rows, -1)[:k, :pm].astype(np.float64)
        self._row_sums[start:stop] = groups.sum(axis=1)
        # Rows of this step fall into one or more pooled rows; add each run of them.
        cell = np.arange(start, stop) // plan.pool
        first = np.flatnonzero(np.r_[True, cell[1:] != cell[:-1]])
        self._pooled_sums[cell[first]] += np.add.reduceat(groups, first, axis=0)
        self._pooled_rows[cell[first]] += np.diff(np.r_[first, k])
        if self._matvec is not None:
            self._matvec[start:stop] = _to_host(out["matvec"]).astype(np.float64).sum(axis=0)[:k]
        if self._diagonal is not None and start < self._diagonal.size:
            end = min(stop, self._diagonal.size)
            self._diagonal[start:end] = _to_host(out["diagonal"])[:end - start]
        if self._top_values is not None:
            self._top_values[start:stop] = _to_host(out["top_values"])[:k]
            self._top_indices[start:stop] = _to_host(out["top_indices"])[:k]
        self.done_rows = stop

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
        with np.errstate(invalid="ignore", divide="ignore"):
            counts = self._pooled_rows[:, None] * self._col_counts[None, :]
            pooled = np.where(counts > 0, self._pooled_sums / counts, np.nan)
        copy = lambda a: None if a is None else a.copy()
        return BlockResult(
            pooled=pooled.astype(self.dtype), pool_factor=self.plan.pool,
            row_sums=self._row_sums.copy(), matvec=copy(self._matvec),
            diagonal=copy(self._diagonal), top_k_values=copy(self._top_values),
            top_k_indices=copy(self._top_indices), done_rows=done,
            elapsed_s=self._elapsed, plan=self.plan, dtype=self.dtype.name,
            first_step_s=0.0 if self._t_first is None else self._t_first - self._t0,
            first_step_rows=self._first_rows)


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


@functools.partial(jax.jit, static_argnames=("block_rows", "same"))
def _row_block(start, rows_all, cols, gamma, block_rows: int, same: bool) -> jax.Array:
    rows = jax.lax.dynamic_slice_in_dim(rows_all, start, block_rows)
    row_ids = start + jnp.arange(block_rows, dtype=start.dtype)
    col_ids = jnp.arange(cols.shape[0], dtype=start.dtype)
    return rbf_tile(rows, row_ids, cols, col_ids, gamma, cols.shape[0], same)


def iter_row_blocks(X: ArrayLike, gamma: float, Y: ArrayLike | None = None, block_rows: int = 256,
                    dtype: DTypeLike | None = None) -> Iterator[tuple[int, int, np.ndarray]]:
    """The rows of K(X, Y) a block at a time, for reductions of your own.

    Holds one (block_rows, M) block at a time; one compilation (the last block is
    padded, and its padding cut off). The same `rbf_tile` as `run_blocks`.

    Yields:
      `(start, stop, K[start:stop])`, the block a NumPy array of shape
      (stop - start, M) in the compute dtype.
    """
    gamma = _check_gamma(gamma)
    if block_rows < 1:
        raise ValueError(f"block_rows must be at least 1, got {block_rows}.")
    rows, cols, same = _centered(X, Y, dtype)
    n = rows.shape[0]
    block_rows = min(block_rows, n)
    padded = np.zeros((math.ceil(n / block_rows) * block_rows, rows.shape[1]), rows.dtype)
    padded[:n] = rows
    for start in range(0, n, block_rows):
        with dtype_scope(rows.dtype):
            K = _row_block(np.int32(start), padded, cols, np.asarray(gamma, rows.dtype),
                           block_rows=block_rows, same=same)
        stop = min(start + block_rows, n)
        yield start, stop, np.asarray(K)[:stop - start]
