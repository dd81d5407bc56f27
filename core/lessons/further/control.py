"""Control flow under vmap: `lax.cond` and `lax.while_loop` when the predicate is batched.

A batched `cond` cannot take one branch for some rows and the other for the rest in
one program, so vmap runs both branches on every row and picks per row with
`select_n`. A batched `while_loop` keeps looping while any row still wants to, and
freezes the rows that are done: it runs as many trips as the slowest row needs.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from core.lessons.further.timed import time_compiled_together

__all__ = ["density_or_norm", "cond_jaxpr", "cond_timings", "newton_sqrt", "newton_trips"]


def density_or_norm(x: jax.Array, X: jax.Array, gamma: float, threshold: float) -> jax.Array:
    """For one point x (D,): its kernel density sum_j k(x, X_j) (O(N·D), the costly branch)
    when |x|² > threshold, else |x|² itself (O(D), the cheap branch). Scalar."""
    return lax.cond(
        jnp.sum(x * x) > threshold,
        lambda x: jnp.sum(jnp.exp(-gamma * jnp.sum((X - x) ** 2, axis=-1))),
        lambda x: jnp.sum(x * x),
        x,
    )


def _batched(X: jax.Array, gamma: float, threshold: float) -> jax.Array:
    return jax.vmap(density_or_norm, in_axes=(0, None, None, None))(X, X, gamma, threshold)


def cond_jaxpr(n: int, d: int, dtype: str) -> tuple[str, str]:
    """The jaxprs of `density_or_norm` for one point and under vmap over n points."""
    x = jax.ShapeDtypeStruct((d,), jnp.dtype(dtype))
    X = jax.ShapeDtypeStruct((n, d), jnp.dtype(dtype))
    one = jax.make_jaxpr(lambda x, X: density_or_norm(x, X, 1.0, 1.0))(x, X)
    many = jax.make_jaxpr(lambda X: _batched(X, 1.0, 1.0))(X)
    return str(one), str(many)


def cond_timings(X: jax.Array, gamma: float, fractions: tuple[float, ...],
                 budget_s: float = 0.2) -> list[dict[str, Any]]:
    """Time the vmapped cond when a `fraction` of the rows take the costly branch.

    The threshold is the (1 - fraction) quantile of |x|², so that fraction of rows
    is above it. Also times each branch alone over all rows, for scale.

    Returns:
      rows {"label", "fraction" (or None), "costly_rows", "timing"} in that order.
    """
    sq = np.sum(np.asarray(X, np.float64) ** 2, axis=1)
    rows, ways = [], {}
    for fraction in fractions:
        # Just below the quantile or just above the largest: exactly `fraction` of rows above.
        threshold = (float(np.quantile(sq, 1.0 - fraction)) * (1 - 1e-6) if fraction > 0
                     else float(sq.max()) + 1.0)
        label = f"vmap(cond), {fraction:.0%} costly"
        rows.append({"label": label, "fraction": fraction, "costly_rows": int(np.sum(sq > threshold))})
        ways[label] = (_batched, (X, gamma, threshold), ())
    costly = jax.vmap(lambda x, X, g: jnp.sum(jnp.exp(-g * jnp.sum((X - x) ** 2, axis=-1))),
                      in_axes=(0, None, None))
    cheap = jax.vmap(lambda x: jnp.sum(x * x))
    rows.append({"label": "costly branch alone, all rows", "fraction": None, "costly_rows": len(sq)})
    ways[rows[-1]["label"]] = (costly, (X, X, gamma), ())
    rows.append({"label": "cheap branch alone, all rows", "fraction": None, "costly_rows": 0})
    ways[rows[-1]["label"]] = (cheap, (X,), ())
    # All rows in turn, round by round: the fraction's lesson (it barely moves the
    # bars) cannot be made or broken by a burst of load on one of them.
    timings = time_compiled_together(ways, budget_s=budget_s * len(ways))
    return [{**row, "timing": timings[row["label"]]} for row in rows]


def newton_sqrt(a: jax.Array, on_trip=None) -> tuple[jax.Array, jax.Array]:
    """sqrt(a) for one scalar a > 0 by Newton's method from x = a, to 4 ulp.

    Returns:
      (root, steps): the root and the number of trips this element needed. A large
      a needs many trips: each step from x = a about halves x until x is near sqrt(a).
      `on_trip`, if given, is called once per trip of the loop as it really runs.
    """
    tol = 4 * jnp.finfo(a.dtype).eps

    def not_done(carry):
        x, steps = carry
        return (jnp.abs(x * x - a) > tol * a) & (steps < 200)

    def step(carry):
        x, steps = carry
        if on_trip is not None:
            jax.debug.callback(on_trip)
        return 0.5 * (x + a / x), steps + 1

    return lax.while_loop(not_done, step, (a, jnp.zeros((), jnp.int32)))


def newton_trips(a: jax.Array) -> dict[str, Any]:
    """Run `newton_sqrt` under vmap over `a` (N,) and count the loop's real trips.

    Returns:
      {"roots": (N,), "steps": (N,) each element's own count, "trips": how many
      times the batched loop body ran (one host callback per trip)}.
    """
    trips = []
    roots, steps = jax.vmap(lambda v: newton_sqrt(v, on_trip=lambda: trips.append(1)))(a)
    jax.block_until_ready(roots)
    jax.effects_barrier()
    return {"roots": np.asarray(roots), "steps": np.asarray(steps), "trips": len(trips)}
