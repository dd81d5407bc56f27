"""Three spellings of the RBF Gram matrix: `jnp.vectorize`, nested vmap, broadcasting.

`jnp.vectorize(k, signature="(d),(d)->()")` is NumPy's generalised-ufunc idea built
on vmap: it broadcasts the leading axes and vmaps k over them. Written by hand with
two vmaps, or with broadcasting and no vmap at all, the arithmetic is the same; the
jaxprs differ only in the reshaping around it.
"""

from __future__ import annotations

from collections import Counter
from typing import Callable

import jax
import jax.numpy as jnp

__all__ = ["rbf", "gram_vectorize", "gram_nested_vmap", "gram_broadcast", "FORMS",
           "form_jaxprs", "form_results", "compiled_flops", "arithmetic", "RESHAPING"]


def rbf(x: jax.Array, y: jax.Array, gamma: float) -> jax.Array:
    """exp(-gamma |x - y|²) for two points x, y of shape (D,); scalar."""
    return jnp.exp(-gamma * jnp.sum((x - y) ** 2))


def gram_vectorize(X: jax.Array, gamma: float) -> jax.Array:
    """(N, N) by jnp.vectorize: the signature names the core axes, the rest broadcast."""
    k = jnp.vectorize(rbf, signature="(d),(d),()->()")
    return k(X[:, None, :], X[None, :, :], gamma)


def gram_nested_vmap(X: jax.Array, gamma: float) -> jax.Array:
    """(N, N) by vmap over the columns inside vmap over the rows."""
    row = jax.vmap(rbf, in_axes=(None, 0, None))
    return jax.vmap(row, in_axes=(0, None, None))(X, X, gamma)


def gram_broadcast(X: jax.Array, gamma: float) -> jax.Array:
    """(N, N) by NumPy broadcasting: (N, 1, D) - (1, N, D), no vmap."""
    return jnp.exp(-gamma * jnp.sum((X[:, None, :] - X[None, :, :]) ** 2, axis=-1))


FORMS: dict[str, Callable[[jax.Array, float], jax.Array]] = {
    "jnp.vectorize": gram_vectorize,
    "nested vmap": gram_nested_vmap,
    "broadcasting": gram_broadcast,
}
# Primitives that only move or relabel data: they cost no arithmetic.
RESHAPING = frozenset({"broadcast_in_dim", "squeeze", "reshape", "expand_dims",
                       "convert_element_type", "transpose"})


def _jaxpr(name: str, n: int, d: int, dtype: str) -> jax.extend.core.ClosedJaxpr:
    X = jax.ShapeDtypeStruct((n, d), jnp.dtype(dtype))
    return jax.make_jaxpr(lambda X: FORMS[name](X, 0.5))(X)


def arithmetic(name: str, n: int, d: int, dtype: str) -> list[tuple[str, tuple[int, ...]]]:
    """The form's equations on arrays (not scalars) that are not reshaping, as
    (primitive, output shape), in order: the work that grows with N."""
    out = []
    for eqn in _jaxpr(name, n, d, dtype).eqns:
        if eqn.primitive.name not in RESHAPING and eqn.outvars[0].aval.shape != ():
            out.append((eqn.primitive.name, tuple(eqn.outvars[0].aval.shape)))
    return out


def form_jaxprs(n: int, d: int, dtype: str) -> dict[str, dict]:
    """Per form: its jaxpr text, its equation count by primitive, and its arithmetic."""
    result = {}
    for name in FORMS:
        jaxpr = _jaxpr(name, n, d, dtype)
        result[name] = {"text": str(jaxpr),
                        "counts": Counter(e.primitive.name for e in jaxpr.eqns),
                        "arithmetic": arithmetic(name, n, d, dtype)}
    return result


def compiled_flops(name: str, n: int, d: int, dtype: str) -> float:
    """XLA's floating-point operation count for the compiled form on (n, d)."""
    X = jax.ShapeDtypeStruct((n, d), jnp.dtype(dtype))
    return float(jax.jit(lambda X: FORMS[name](X, 0.5)).lower(X).compile().cost_analysis()["flops"])


def form_results(X: jax.Array, gamma: float) -> dict[str, jax.Array]:
    """Each form's (N, N) Gram matrix of X, jitted."""
    return {name: jax.jit(fn)(X, gamma) for name, fn in FORMS.items()}
