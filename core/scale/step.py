"""The block engine's device step: one block of rows against all columns, tile by tile.

Each step walks the columns in tiles (`lax.scan`), folding every tile into small
results at once: sums over groups of columns (from which the host builds the pooled
means and the row sums), K @ v, the diagonal, the top-k neighbours of each row. Rows
are sharded over all local JAX devices with `jax.shard_map` on a one-axis `Mesh`
named "rows": every device gets `rows_per_device` rows of each step and all the
columns, so one device and eight run the same per-device program and give the same
numbers (tests/core/scale/test_sharding.py).
"""

from __future__ import annotations

import functools
from typing import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

from core.kernels.numerics import augmented_factors, clip_at_zero
from core.scale.plan import ROW_AXIS

__all__ = ["rbf_tile", "symmetric_tile", "block_step", "row_mesh"]

# --- the math: one tile of K, and one device's share of one step -------------

def rbf_tile(rows: jax.Array, row_ids: jax.Array, cols: jax.Array, col_ids: jax.Array,
             gamma: jax.Array, same: bool, *, keep_rows: jax.Array | None = None,
             keep_cols: jax.Array | None = None, self_pairs: bool = True) -> jax.Array:
    """One tile of the RBF Gram matrix, from centered points.

    Args:
      rows: (B, D) points, already shifted by the run's one global mean.
      row_ids: (B,) their row numbers in K.
      cols: (T, D) points, shifted by the same mean.
      col_ids: (T,) their column numbers in K, consecutive.
      gamma: scalar.
      same: True when the columns are the rows' own points (Y is X).
      keep_rows, keep_cols: (B,) and (T,) bool, or None (all): rows and columns left
        out (padding, or entries another tile owns) come out as exactly 0.
      self_pairs: with `same`, set K[i, i] to exactly 1 (for kept rows); False when
        the tile holds no pair (i, i).

    Returns:
      (B, T) kernel values in the dtype of `rows`.
    """
    # ONE matrix product of augmented factors gives the exponent -γ|x - y|²; then
    # clip it at 0 (K <= 1) and make K[i, i] exactly 1, as every dense method does.
    A, B = augmented_factors(rows, cols, gamma)
    # Rows and columns left out get the exponent -1e30 through their -γ|x|² or -γ|y|²
    # factor, so exp gives exactly 0: a (B,) or (T,) select, not a (B, T) one, which
    # keeps product, clip and exp one chain that XLA's CPU backend fuses into one pass
    # over the tile (see `_cpu_fusion_options`).
    out = jnp.asarray(-1e30, A.dtype)
    if keep_rows is not None:
        A = A.at[:, -2].set(jnp.where(keep_rows, A[:, -2], out))
    if keep_cols is not None:
        B = B.at[-1].set(jnp.where(keep_cols, B[-1], out))
    # HIGHEST: accelerators otherwise multiply float32 in reduced precision (TF32),
    # which the expansion turns into large distance errors.
    K = jnp.exp(clip_at_zero(jnp.dot(A, B, precision=jax.lax.Precision.HIGHEST), exponent=True))
    if same and self_pairs:
        # K[i, i] is exp(0) = 1 exactly, as in `clip_at_zero(self_pairs=...)`, written as
        # B entries (those in this tile; the others dropped), not as a (B, T) mask.
        at = row_ids - col_ids[0]
        drop = at < 0 if keep_rows is None else (at < 0) | ~keep_rows
        at = jnp.where(drop, K.shape[1], at)  # a negative index would wrap around, not drop
        K = K.at[jnp.arange(K.shape[0]), at].set(1, mode="drop")
    return K


def block_step(start, rows_all, cols_t, v_t, v_rows, gamma, *, rows_per_device: int,
               n_cols: int, same: bool, pool: int, matvec: bool, diagonal: bool, top_k: int,
               exclude_self: bool, symmetric: bool = False) -> dict[str, jax.Array]:
    """One device's share of one step: its rows of K against every column, reduced.

    Runs inside `jax.shard_map` over the "rows" axis: device r takes rows
    `start + r * rows_per_device` onwards. Only sums over groups of `pool` columns
    (and the other reductions) leave the device, never a tile of K.

    Args:
      start: int32 scalar, the step's first row.
      rows_all: (N_pad, D) all centered rows, padded to whole steps.
      cols_t: (n_tiles, T, D) the centered columns cut into tiles.
      v_t: (n_tiles, T) the vector of K @ v in the same tiles (zeros if unused).
      v_rows: (N_pad,) the same vector laid out as the rows (the symmetric path's K^T v).
      gamma: scalar.
      rows_per_device, n_cols, same, pool, matvec, diagonal, top_k, exclude_self:
        static: the block shape, M, Y is X, the pooling factor, what to reduce.
      symmetric: static; K(X, X) only (same, no top-k): each device computes only the
        tiles that reach its block's diagonal or beyond, each as its transpose (see
        `symmetric_tile`). Entries left of its first row (j < o, o the block's first
        row) are the transposes of entries earlier blocks computed and are masked out
        of the row reductions; entries right of its block (j >= o + B) are also folded
        into column reductions, which the host adds to the later rows j. Every pair
        (i, j) is then counted once for row i.

    Returns:
      {"groups": (n_tiles, B, T // pool) column-group sums, "matvec": (n_tiles, B)
      partial sums, "diagonal": (B,), "top_values", "top_indices": (B, top_k)},
      the last four only when asked for; B = rows_per_device. Symmetric: instead of
      "groups", "row_sums": (n_tiles, B) partial row sums and "pooled": (1, n_tiles, G,
      T // pool) the tiles' sums over the block's rows of each pooled row group (G =
      (B - 1) // pool + 2, from group o // pool) and pooled column group; also
      "col_sums": (1, n_tiles, T) sums over the block's rows of K[i, j] (j >= o + B),
      "col_groups": (1, n_tiles, G, T // pool) as "pooled" over those columns only,
      and with matvec "col_matvec": (1, n_tiles, T), sum_i v[i] K[i, j].
    """
    b, n_tiles, tile_cols = rows_per_device, cols_t.shape[0], cols_t.shape[1]
    offset = start + jax.lax.axis_index(ROW_AXIS) * b
    rows = jax.lax.dynamic_slice_in_dim(rows_all, offset, b)
    row_ids = offset + jnp.arange(b, dtype=offset.dtype)

    def tile(carry, xs):
        cols, v, first = xs
        col_ids = first + jnp.arange(tile_cols, dtype=first.dtype)
        K = rbf_tile(rows, row_ids, cols, col_ids, gamma, same, keep_cols=col_ids < n_cols)
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
    if not symmetric:
        carry, outs = jax.lax.scan(tile, carry, (cols_t, v_t, firsts))
        return {**outs, **carry}

    # Each column reduction weights the block's rows: all of them (column sums), by v
    # (K^T v), by pooled row group (the mirror: G groups from group offset // pool).
    n_groups = (b - 1) // pool + 2
    member = (row_ids[:, None] // pool - offset // pool
              == jnp.arange(n_groups, dtype=offset.dtype)[None, :]).astype(rows.dtype)
    weights = [jnp.ones(b, rows.dtype)]
    if matvec:
        weights.append(jax.lax.dynamic_slice_in_dim(v_rows, offset, b))
    weights = jnp.stack(weights, axis=1)
    sym_tile = functools.partial(symmetric_tile, rows=rows, row_ids=row_ids, weights=weights,
                                 member=member, gamma=gamma, n=n_cols, pool=pool,
                                 diagonal=diagonal)

    # Tiles wholly left of the block's first row: not computed, zeros out. Tiles
    # that meet the block's columns: masked. Tiles wholly right of it: no masks.
    def body(carry, xs):
        shapes = jax.eval_shape(sym_tile, carry, xs)[1]
        zeros = lambda c, x: (c, jax.tree.map(lambda a: jnp.zeros(a.shape, a.dtype), shapes))
        first = xs[2]
        which = jnp.where(first + tile_cols <= offset, 0, jnp.where(first < offset + b, 1, 2))
        return jax.lax.switch(which, [zeros, sym_tile, functools.partial(sym_tile, masked=False)],
                              carry, xs)
    carry, outs = jax.lax.scan(body, carry, (cols_t, v_t, firsts))
    for key in ("pooled", "col_groups"):  # (n_tiles, T // pool, G) -> (n_tiles, G, T // pool)
        outs[key] = outs[key].transpose(0, 2, 1)
    for key in ("col_sums", "pooled", "col_groups", "col_matvec"):
        if key in outs:  # one per device: a leading axis split over "rows"
            outs[key] = outs[key][None]
    return {**outs, **carry}


def symmetric_tile(carry, xs, *, rows, row_ids, weights, member, gamma, n, pool, diagonal,
                    masked=True):
    """The symmetric path's tile, made as its transpose: K(cols, rows), shape (T, B).

    K(X, X) is symmetric, so the tile's transpose is the tile of the columns against
    the block's rows. Made that way, both reductions run along whole arrays: the
    column groups of each row sum T // pool slabs of `pool` rows of length B, and the
    column sums (and K^T v) are one product with the block's weights (docs/BENCHMARKS.md,
    "Where the engine's time goes").

    Args:
      carry: {"diagonal": (B,)} when asked for, else {}.
      xs: (cols (T, D), v (T,), first column).
      rows, row_ids: the block's (B, D) rows and (B,) ids.
      weights: (B, 1 or 2): ones, and the block's entries of v with K^T v.
      member: (B, G) 1 where a row is in the block's pooled row group g.
      gamma, n: scalar, and N (rows and columns at or past it are padding).
      pool, diagonal: static, as in `block_step`.
      masked: the tile meets the block's own columns: columns left of the block come
        out as 0, and those inside it are left out of the column reductions.

    Returns:
      (carry, {"row_sums": (B,), "pooled": (T // pool, G) sums over the block's rows of
      each pooled row group and the tile's columns of each pooled column group,
      "col_sums": (T,), "col_groups": (T // pool, G) the same as "pooled" over the
      columns owed to later rows only [, "matvec": (B,), "col_matvec": (T,)]}).
    """
    cols, v, first = xs
    b, t = rows.shape[0], cols.shape[0]
    offset = row_ids[0]
    col_ids = first + jnp.arange(t, dtype=first.dtype)
    keep = col_ids < n
    if masked:  # the block's diagonal onwards
        keep = keep & (col_ids >= offset)
    # Padding rows of the block (ids >= N) come out as 0, so no reduction weights them.
    Kt = rbf_tile(cols, col_ids, rows, row_ids, gamma, True, keep_rows=keep,
                  keep_cols=row_ids < n, self_pairs=masked)
    hi = jax.lax.Precision.HIGHEST
    # The barrier keeps `groups` one array, written once: without it XLA fuses its
    # reduction into each of its consumers, and each reads the whole tile again.
    groups = jax.lax.optimization_barrier(Kt.reshape(t // pool, pool, b).sum(axis=1))
    # Summed here over the block's rows of each pooled row group, not on the host: only
    # (T // pool, G) sums and B row sums leave the device, not (T // pool, B).
    out = {"row_sums": groups.sum(axis=0), "pooled": jnp.dot(groups, member, precision=hi)}
    matvec = weights.shape[1] > 1
    if matvec:  # per-tile partial sums: the host adds them in float64
        out["matvec"] = jnp.dot(v, Kt, precision=hi)
    if masked:
        # Only columns right of the block are owed to later rows: mask the (T, ·)
        # products, and group the mirror from them rather than from `groups`.
        cols_red = jnp.dot(Kt, jnp.concatenate([weights, member], axis=1), precision=hi)
        cols_red = jnp.where((col_ids >= offset + b)[:, None], cols_red, 0)
        out["col_groups"] = cols_red[:, weights.shape[1]:].reshape(
            t // pool, pool, -1).sum(axis=1)
    else:  # every column is owed: the mirror is the tile's pooled block itself
        cols_red = jnp.dot(Kt, weights, precision=hi)
        out["col_groups"] = out["pooled"]
    out["col_sums"] = cols_red[:, 0]
    if matvec:
        out["col_matvec"] = cols_red[:, 1]
    if diagonal and masked:  # tiles right of the block hold no pair (i, i)
        carry = dict(carry, diagonal=carry["diagonal"] + jnp.sum(
            jnp.where(col_ids[:, None] == row_ids[None, :], Kt, 0), axis=0))
    return carry, out


_OUT_SPECS = {"groups": P(None, ROW_AXIS, None), "matvec": P(None, ROW_AXIS),
              "row_sums": P(None, ROW_AXIS), "pooled": P(ROW_AXIS, None, None, None),
              "diagonal": P(ROW_AXIS), "top_values": P(ROW_AXIS, None),
              "top_indices": P(ROW_AXIS, None), "col_sums": P(ROW_AXIS, None, None),
              "col_groups": P(ROW_AXIS, None, None, None), "col_matvec": P(ROW_AXIS, None, None)}


@functools.lru_cache(maxsize=16)
def _compiled_step(mesh: Mesh, **static) -> Callable[..., dict[str, jax.Array]]:
    """`block_step` sharded over `mesh` by rows and jitted, one per mesh and static setup."""
    keys = [k for k, on in (("groups", not static["symmetric"]),
                                          ("row_sums", static["symmetric"]),
                                          ("pooled", static["symmetric"]),
                                          ("matvec", static["matvec"]),
                                          ("diagonal", static["diagonal"]),
                                          ("top_values", static["top_k"]),
                                          ("top_indices", static["top_k"]),
                                          ("col_sums", static["symmetric"]),
                                          ("col_groups", static["symmetric"]),
                                          ("col_matvec", static["symmetric"] and static["matvec"]))
                                         if on]
    # Inputs are replicated (every device sees all rows and columns: N·D is small);
    # outputs are split by rows. check_vma=False: the scan's carry starts replicated
    # and becomes per-device through axis_index, which the checker would reject.
    step = jax.shard_map(functools.partial(block_step, **static), mesh=mesh,
                         in_specs=(P(),) * 6, out_specs={k: _OUT_SPECS[k] for k in keys},
                         check_vma=False)
    cpu = all(d.platform == "cpu" for d in mesh.devices.flat)
    return jax.jit(step, compiler_options=_cpu_fusion_options() if cpu else None)


# XLA's CPU backend hands dots and reductions to YNNPACK, whose exp is fast, but by default
# not elementwise chains: a tile of K with two consumers (its row sums and, on the symmetric
# path, its column sums) is then exponentiated by XLA's own slower loop, between two passes
# over memory. With elementwise fusions on, YNNPACK computes the product, clip and exp of a
# tile in one pass and the two reductions read it back (benchmarks/block_engine.py; figures in
# docs/BENCHMARKS.md, "The block engine against the floor"). Per program, never process-wide.
_YNN_TYPES = "LIBRARY_FUSION_TYPE_DOT,LIBRARY_FUSION_TYPE_ELTWISE,LIBRARY_FUSION_TYPE_REDUCE"


@functools.lru_cache(maxsize=1)
def _cpu_fusion_options() -> dict[str, str] | None:
    """The CPU compiler option above, or None when this jaxlib does not know it."""
    options = {"xla_cpu_experimental_ynn_fusion_type": _YNN_TYPES}
    try:
        probe = jax.jit(lambda x: jnp.exp(x).sum(), compiler_options=options)
        probe.lower(jax.ShapeDtypeStruct((8,), jnp.float32)).compile()
    except Exception:  # an unknown option or value: the default fusions, same results to round-off
        return None
    return options


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
