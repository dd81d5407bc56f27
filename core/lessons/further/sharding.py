"""The mapped axis over devices: `shard_map` around vmap, and vmap's `spmd_axis_name`.

The rows vmap maps over can live on several devices: `jax.shard_map` hands each
device its block of rows and vmap batches inside the block; `vmap(...,
spmd_axis_name="rows")` asks the compiler to keep the batch axis split over the
mesh axis "rows" in every intermediate. The Scale page uses the first on real N.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from jax.sharding import NamedSharding, PartitionSpec as P

__all__ = ["MESH_AXIS", "row_mesh", "gram_row", "gram_shard_map", "gram_spmd", "sharded_gram"]

MESH_AXIS = "rows"


def row_mesh() -> jax.sharding.Mesh:
    """A one-axis mesh named "rows" over every local device."""
    return jax.make_mesh((jax.device_count(),), (MESH_AXIS,))


def gram_row(x: jax.Array, X: jax.Array, gamma: float) -> jax.Array:
    """(N,): RBF kernel values of x (D,) against every row of X (N, D)."""
    return jnp.exp(-gamma * jnp.sum((X - x) ** 2, axis=-1))


def gram_shard_map(X_rows: jax.Array, X_all: jax.Array, gamma: float,
                   mesh: jax.sharding.Mesh) -> jax.Array:
    """(N, N): each device vmaps `gram_row` over its own block of rows of X."""
    block = lambda rows, X, g: jax.vmap(gram_row, in_axes=(0, None, None))(rows, X, g)  # noqa: E731
    spread = jax.shard_map(block, mesh=mesh, in_specs=(P(MESH_AXIS), P(), P()),
                           out_specs=P(MESH_AXIS))
    return spread(X_rows, X_all, gamma)


def gram_spmd(X_rows: jax.Array, X_all: jax.Array, gamma: float) -> jax.Array:
    """(N, N): vmap over the rows, its batch axis split over the mesh axis "rows"."""
    return jax.vmap(gram_row, in_axes=(0, None, None), spmd_axis_name=MESH_AXIS)(X_rows, X_all,
                                                                                 gamma)


def sharded_gram(X: jax.Array, gamma: float, how: str) -> dict[str, Any]:
    """Run one of the two ways on every local device.

    N must be a multiple of the device count (each device gets N / devices rows).

    Returns:
      {"K": the (N, N) result, "devices", "shards": [(device, shard shape)],
       "spec": the output's PartitionSpec as text, "jaxpr": the program's jaxpr}.
    """
    mesh = row_mesh()
    if X.shape[0] % mesh.size:
        raise ValueError(f"N = {X.shape[0]} rows do not split evenly over {mesh.size} devices; "
                         f"use a multiple of {mesh.size}.")
    X_rows = jax.device_put(X, NamedSharding(mesh, P(MESH_AXIS)))
    X_all = jax.device_put(X, NamedSharding(mesh, P()))
    g = jnp.asarray(gamma, X.dtype)
    with jax.set_mesh(mesh):
        if how == "shard_map":
            fn = jax.jit(lambda a, b, g: gram_shard_map(a, b, g, mesh))
        else:
            fn = jax.jit(gram_spmd)
        K = jax.block_until_ready(fn(X_rows, X_all, g))
        jaxpr = str(jax.make_jaxpr(fn)(X_rows, X_all, g))
    return {"K": K, "devices": mesh.size,
            "shards": [(str(s.device), tuple(s.data.shape)) for s in K.addressable_shards],
            "spec": str(K.sharding.spec), "jaxpr": jaxpr}
