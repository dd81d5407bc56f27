"""Memory against time: `lax.map(f, xs, batch_size=b)` between a loop and vmap.

`lax.map` with batch_size b runs vmap on b rows at a time inside a loop: b = 1 is a
loop (one row per trip), b = N is vmap. The compiled program holds about b rows'
intermediates at once, which XLA's memory analysis reports before anything runs.
"""

from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp
from jax import lax

from core.lessons.further.timed import time_compiled_together

__all__ = ["knn_sqdist", "mapped", "batch_sizes", "memory_sweep"]


def knn_sqdist(x: jax.Array, X: jax.Array, k: int) -> jax.Array:
    """Mean squared distance from x (D,) to its k nearest rows of X (N, D); scalar.

    The N squared distances must exist together for `top_k`, so XLA cannot fuse
    them away: a batch of b rows holds a (b, N) array.
    """
    d2 = jnp.sum((X - x) ** 2, axis=-1)
    return -jnp.mean(lax.top_k(-d2, k)[0])


def mapped(X: jax.Array, k: int, batch_size: int | None) -> jax.Array:
    """(N,): `knn_sqdist` for every row, by lax.map with `batch_size`, or vmap if None."""
    f = lambda x: knn_sqdist(x, X, k)  # noqa: E731
    if batch_size is None:
        return jax.vmap(f)(X)
    return lax.map(f, X, batch_size=batch_size)


def batch_sizes(n: int) -> tuple[int | None, ...]:
    """The sweep for n rows: 1, 4, 16, ... below n (a loop at 1), then n, then None (vmap)."""
    sizes = [b for b in (1, 4, 16, 64, 256, 1024) if b < n]
    return (*sizes, n, None)


def memory_sweep(X: jax.Array, k: int, sizes: tuple[int | None, ...], budget_s: float = 0.2,
                 on_progress: Callable[[float], Any] | None = None) -> list[dict[str, Any]]:
    """Compile `mapped` for each batch size; read XLA's memory analysis; time it.

    Returns:
      rows {"batch_size" (None: vmap), "temp_bytes", "argument_bytes", "output_bytes",
      "timing"}. temp_bytes is the scratch memory XLA assigned to the program.
    """
    rows = []
    for i, b in enumerate(sizes):
        stats = jax.jit(mapped, static_argnums=(1, 2)).lower(X, k, b).compile().memory_analysis()
        rows.append({"batch_size": b, "temp_bytes": int(stats.temp_size_in_bytes),
                     "argument_bytes": int(stats.argument_size_in_bytes),
                     "output_bytes": int(stats.output_size_in_bytes)})
        if on_progress is not None:
            on_progress(0.5 * (i + 1) / len(sizes))
    # Every batch size timed together, round by round.
    timings = time_compiled_together(
        {str(b): (mapped, (X, k, b), (1, 2)) for b in sizes}, budget_s=budget_s * len(sizes),
        on_progress=None if on_progress is None else (lambda f: on_progress(0.5 + 0.5 * f)))
    for row in rows:
        row["timing"] = timings[str(row["batch_size"])]
    return rows
