"""Jacobians from vmap: `jacfwd` is vmap of `jvp`, `jacrev` is vmap of `vjp`.

A jvp pushes one input direction through f and gives one column of the Jacobian; a
vjp pulls one output direction back and gives one row. vmap over all n input
directions (or all m output directions) gives the whole m × n matrix, so forward
mode does n pushes and reverse mode m pulls: forward wins when inputs are few.
"""

from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np

from core.lessons.further.timed import time_compiled_together

__all__ = ["layer", "jacobian_by_jvp", "jacobian_by_vjp", "JACOBIANS", "jacobian_flops",
           "jacobian_timings"]


def layer(W: jax.Array, x: jax.Array) -> jax.Array:
    """f(x) = tanh(W x): R^n -> R^m for W of shape (m, n) and x of shape (n,)."""
    return jnp.tanh(W @ x)


def jacobian_by_jvp(f: Callable[[jax.Array], jax.Array], x: jax.Array) -> jax.Array:
    """(m, n): one jvp per input direction e_j (column j), batched by vmap."""
    basis = jnp.eye(x.size, dtype=x.dtype)
    column = lambda v: jax.jvp(f, (x,), (v,))[1]  # noqa: E731
    return jax.vmap(column, out_axes=1)(basis)


def jacobian_by_vjp(f: Callable[[jax.Array], jax.Array], x: jax.Array) -> jax.Array:
    """(m, n): one vjp per output direction e_i (row i), batched by vmap."""
    y, pullback = jax.vjp(f, x)
    basis = jnp.eye(y.size, dtype=y.dtype)
    return jax.vmap(lambda u: pullback(u)[0])(basis)


JACOBIANS: dict[str, Callable[[jax.Array, jax.Array], jax.Array]] = {
    "vmap of jvp": lambda W, x: jacobian_by_jvp(lambda v: layer(W, v), x),
    "jax.jacfwd": lambda W, x: jax.jacfwd(layer, argnums=1)(W, x),
    "vmap of vjp": lambda W, x: jacobian_by_vjp(lambda v: layer(W, v), x),
    "jax.jacrev": lambda W, x: jax.jacrev(layer, argnums=1)(W, x),
}


def problem(n: int, m: int, dtype: str = "float32", seed: int = 0) -> tuple[jax.Array, jax.Array]:
    """W (m, n) scaled by 1/sqrt(n) (so tanh is not saturated) and x (n,), seeded."""
    rng = np.random.default_rng(seed)
    W = rng.normal(size=(m, n)) / np.sqrt(n)
    return jnp.asarray(W, dtype), jnp.asarray(rng.normal(size=n), dtype)


def jacobian_flops(name: str, n: int, m: int, dtype: str = "float32") -> float:
    """XLA's count of floating-point operations in the compiled Jacobian program."""
    W, x = problem(n, m, dtype)
    compiled = jax.jit(JACOBIANS[name]).lower(W, x).compile()
    return float(compiled.cost_analysis()["flops"])


def jacobian_timings(sizes: tuple[int, ...], fixed: int, vary: str, dtype: str = "float32",
                     budget_s: float = 0.15, on_progress: Callable[[float], Any] | None = None
                     ) -> list[dict[str, Any]]:
    """Time `vmap of jvp` and `vmap of vjp` as the input (vary="n") or output size grows.

    Returns:
      rows {"n", "m", "method", "timing"}; the other size is held at `fixed`.
    """
    rows = []
    for i, size in enumerate(sizes):
        n, m = (size, fixed) if vary == "n" else (fixed, size)
        W, x = problem(n, m, dtype)
        # The two at one size timed together, round by round (like with like).
        timings = time_compiled_together({name: (JACOBIANS[name], (W, x), ())
                                          for name in ("vmap of jvp", "vmap of vjp")},
                                         budget_s=2 * budget_s)
        rows += [{"n": n, "m": m, "method": name, "timing": t} for name, t in timings.items()]
        if on_progress is not None:
            on_progress((i + 1) / len(sizes))
    return rows
