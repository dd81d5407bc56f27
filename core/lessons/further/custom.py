"""Custom batching: `custom_vmap` with a hand-written rule, and `pure_callback` under vmap.

`jax.custom_batching.custom_vmap` lets a function say what it becomes under vmap.
Here the RBF kernel of two points, written the obvious way, batches by a rule that
uses the dot-product identity |x - y|² = |x|² + |y|² - 2 x·y, so the batched program
is a matrix-vector product instead of an (N, D) difference. `jax.pure_callback`
calls NumPy on the host; its `vmap_method` says how vmap reaches that host code.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.custom_batching import custom_vmap

__all__ = ["rbf_pair", "rbf_pair_rule", "custom_gram", "custom_jaxpr", "VMAP_METHODS",
           "callback_calls", "host_rbf"]


@custom_vmap
def rbf_pair(x: jax.Array, y: jax.Array, gamma: jax.Array) -> jax.Array:
    """exp(-gamma |x - y|²) for x, y of shape (D,); scalar."""
    return jnp.exp(-gamma * jnp.sum((x - y) ** 2))


@rbf_pair.def_vmap
def rbf_pair_rule(axis_size: int, in_batched: list[bool], x: jax.Array, y: jax.Array,
                  gamma: jax.Array) -> tuple[jax.Array, bool]:
    """What vmap runs instead of `rbf_pair`: x, y arrive as (B, D) where batched.

    Returns (values (B,), True: the output is batched along axis 0).
    """
    x_batched, y_batched, gamma_batched = in_batched
    if gamma_batched:
        raise NotImplementedError("This rule takes one gamma for the whole batch.")
    if x_batched and y_batched:
        cross = jnp.einsum("bd,bd->b", x, y)
    elif x_batched:
        cross = x @ y  # (B, D) @ (D,): a matrix-vector product
    else:
        cross = y @ x
    sq = jnp.sum(x * x, axis=-1) + jnp.sum(y * y, axis=-1) - 2 * cross
    sq = jnp.maximum(sq, 0)  # round-off in the identity can make a squared distance negative
    return jnp.broadcast_to(jnp.exp(-gamma * sq), (axis_size,)), True


def custom_gram(X: jax.Array, gamma: float) -> jax.Array:
    """(N, N): `rbf_pair` under two vmaps, so the rule above runs."""
    gamma = jnp.asarray(gamma, X.dtype)
    row = jax.vmap(rbf_pair, in_axes=(None, 0, None))
    return jax.vmap(row, in_axes=(0, None, None))(X, X, gamma)


def custom_jaxpr(n: int, d: int, dtype: str) -> tuple[str, str]:
    """The jaxprs of one `rbf_pair` call and of `custom_gram` on (n, d)."""
    x = jax.ShapeDtypeStruct((d,), jnp.dtype(dtype))
    X = jax.ShapeDtypeStruct((n, d), jnp.dtype(dtype))
    g = jax.ShapeDtypeStruct((), jnp.dtype(dtype))
    return (str(jax.make_jaxpr(rbf_pair)(x, x, g)),
            str(jax.make_jaxpr(lambda X: custom_gram(X, 0.5))(X)))


VMAP_METHODS: dict[str | None, str] = {
    "sequential": "one host call per row (lax.map over the batch)",
    "sequential_unrolled": "like sequential, the loop unrolled",
    "expand_dims": "one host call; unbatched inputs get a leading axis of size 1",
    "broadcast_all": "one host call; unbatched inputs are tiled to the batch size",
    None: "not given: vmap refuses",
}


def host_rbf(x: np.ndarray, X: np.ndarray, gamma: np.ndarray) -> np.ndarray:
    """Kernel values between x (..., D) and X (..., N, D) in NumPy, on the host: (..., N)."""
    sq = np.sum((np.asarray(X)[..., :, :] - np.asarray(x)[..., None, :]) ** 2, axis=-1)
    return np.exp(-np.asarray(gamma)[..., None] * sq).astype(np.asarray(X).dtype)


def callback_calls(method: str | None, X: jax.Array, gamma: float) -> dict[str, Any]:
    """vmap a `pure_callback` of `host_rbf` over the rows of X with `vmap_method`.

    Returns:
      {"calls": the shapes (x, X, gamma) of every host call, "output": (N, N) or None,
       "error": JAX's message when it refused, else None}.
    """
    calls: list[tuple] = []

    def on_host(x, Xh, g):
        calls.append((np.shape(x), np.shape(Xh), np.shape(g)))
        return host_rbf(x, Xh, g)

    def row(x, X, g):
        shape = jax.ShapeDtypeStruct(X.shape[:1], X.dtype)
        return jax.pure_callback(on_host, shape, x, X, g, vmap_method=method)

    g = jnp.asarray(gamma, X.dtype)
    try:
        out = jax.vmap(row, in_axes=(0, None, None))(X, X, g)
        out = np.asarray(jax.block_until_ready(out))
    except NotImplementedError as err:
        return {"calls": calls, "output": None, "error": str(err).split("\n")[0]}
    return {"calls": calls, "output": out, "error": None}
