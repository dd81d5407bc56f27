"""Random numbers under vmap: one key shared by every row, or one key per row.

A JAX key is an input like any other. `in_axes=None` hands the same key to every
row, so every row draws the same numbers; splitting the key into N keys and mapping
over them gives each row its own, independent draw.
"""

from __future__ import annotations

import jax

__all__ = ["noisy_copy", "noise_one_key", "noise_split_keys"]


def noisy_copy(key: jax.Array, x: jax.Array, scale: float) -> jax.Array:
    """x (D,) plus Gaussian noise of standard deviation `scale` drawn with `key`."""
    return x + scale * jax.random.normal(key, x.shape, x.dtype)


def noise_one_key(key: jax.Array, X: jax.Array, scale: float) -> jax.Array:
    """(N, D): every row jittered with the SAME key (in_axes=None for the key)."""
    return jax.vmap(noisy_copy, in_axes=(None, 0, None))(key, X, scale)


def noise_split_keys(key: jax.Array, X: jax.Array, scale: float) -> jax.Array:
    """(N, D): row i jittered with key i of `jax.random.split(key, N)`."""
    keys = jax.random.split(key, X.shape[0])
    return jax.vmap(noisy_copy, in_axes=(0, 0, None))(keys, X, scale)
