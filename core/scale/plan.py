"""The block engine's plan and results: how K(X, Y) is cut into steps and tiles, and what
each run gives back.

K[i, j] = exp(-gamma |x_i - y_j|^2) for a million points is 3.6 TiB in float32. The
engine never holds it: `plan_blocks` cuts the rows into steps (each sharded over the
devices) and the columns into tiles small enough for the CPU cache, and says how many
columns pool into one displayed cell. `BlockReductions` names what a run keeps,
`BlockProgress` and `BlockResult` what it reports.
"""

from __future__ import annotations

import dataclasses
import math

import jax
import numpy as np

from core.errors import CoreError
from core.scale.pooling import MAX_POOLED_SIDE, pool_factor

__all__ = ["ROW_AXIS", "MAX_POOLED_SIDE", "BlockCancelled", "BlockReductions", "BlockPlan", "BlockProgress", "BlockResult", "default_block_shape", "plan_blocks"]

ROW_AXIS = "rows"
# Rows per device and columns per tile. CPU: a 512 × 2048 float32 tile is 4 MiB (it
# stays in the shared cache), and the symmetric path's tiles are (columns, rows), so
# they reduce along the block's 512 rows (benchmarks/block_engine.py; figures in
# docs/BENCHMARKS.md, "The block engine against the floor").
# Accelerators want far more work per launch: a starting point, not a measurement
# (docs/SCALING.md).
_CPU_SHAPE = (512, 2048)
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
        """Shape of the pooled means, (ceil(N / f), ceil(M / f)), as `core.scale.pooling.pool_mean`."""
        return math.ceil(self.n / self.pool), math.ceil(self.m / self.pool)

    def computed_entries(self, symmetric: bool = False) -> int:
        """Entries of K the devices compute, padding included (symmetric: tiles from each block's diagonal on)."""
        blocks = self.n_blocks * self.n_devices
        if not symmetric:
            return blocks * self.rows_per_device * self.n_tiles * self.tile_cols
        firsts = np.arange(blocks) * self.rows_per_device // self.tile_cols
        tiles = np.maximum(0, self.n_tiles - firsts).sum()
        return int(tiles) * self.rows_per_device * self.tile_cols

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
        platform's default, or fewer when one step holds all rows.
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
        # Whole default blocks (the last one padded), or one block of all rows rounded up
        # to a multiple of 8: blocks shrunk to an odd size cost more CPU per entry on
        # the symmetric path, whose tiles are (columns, rows) and vectorise along the
        # rows (docs/BENCHMARKS.md, "The block engine against the floor").
        rows_per_device = min(default_rows, 8 * math.ceil(n / (8 * n_devices)))
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
        dtype, equal to `core.scale.pooling.pool_mean(K)` to round-off; cells of rows not
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
      symmetric: K(X, X) ran on the symmetric path (tiles on and above each block's
        diagonal only; see `core.scale.step.block_step`).
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
    symmetric: bool = False

    @property
    def complete(self) -> bool:
        return self.done_rows == self.plan.n

    @property
    def fraction(self) -> float:
        return self.done_rows / self.plan.n

    @property
    def seconds_per_entry(self) -> float:
        """Wall time per entry of K done, computed or mirrored (the first step's compile included)."""
        return self.elapsed_s / max(1, self.done_rows * self.plan.m)

    @property
    def steady_seconds_per_entry(self) -> float | None:
        """Wall time per entry after the first step (no compile); None with one step."""
        rows = self.done_rows - self.first_step_rows
        return (self.elapsed_s - self.first_step_s) / (rows * self.plan.m) if rows > 0 else None
