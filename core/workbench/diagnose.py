"""What vmap made of a user's kernel, and what is wrong with its numbers: the findings.

Read from the jaxpr for one pair against the batched one (Method I), from K and
its spectrum, and from gradients at pairs with x == y. Each `Finding` is one
plain sentence with a link to the page of the app that teaches it. Runs in a
worker process (`core.workbench.view.compute_view` calls `findings_for`).
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any, Callable, Mapping

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from core.dense.memory import format_bytes
from core.workbench.program import ARRAY_BUDGET_BYTES, ProgramStats, program_stats

__all__ = ["Finding", "LINKS", "LINALG_PRIMITIVES", "SAFE_SQRT", "findings_for", "linalg_batching"]

LINKS = {
    "memory": "/further?further_topic=Memory",
    "control": "/further?further_topic=Control+flow",
    "anatomy": "/anatomy",
    "gradients": "/gradients",
    "precision": "/precision",
    "kernels": "/kernels",
    "race": "/race",
}
LINALG_PRIMITIVES = frozenset({"cholesky", "eigh", "eig", "lu", "lu_pivots_to_permutation",
                               "triangular_solve", "qr", "householder_product", "svd", "schur",
                               "hessenberg", "tridiagonal", "tridiagonal_solve"})
INDEXING_PRIMITIVES = frozenset({"gather", "scatter", "scatter-add", "scatter_add",
                                 "dynamic_slice", "dynamic_update_slice"})
SAFE_SQRT = "np.where(d2 > 0, np.sqrt(np.where(d2 > 0, d2, 1.0)), 0.0)"
# Pairs (x, x) whose gradient is checked: enough rows to meet a zero distance.
_GRAD_ROWS = 64


@dataclasses.dataclass(frozen=True)
class Finding:
    """One thing the workbench noticed.

    Attributes:
      kind: "size", "memory", "select", "loop", "gather", "index", "linalg",
        "float64", "nan", "nan_grad", "not_symmetric" or "not_psd".
      title: a few words; sentence: one plain sentence with the numbers.
      link: the app address that teaches it (e.g. "/further?further_topic=Memory").
      detail: how it was found or measured (may be empty).
    """

    kind: str
    title: str
    sentence: str
    link: str
    detail: str = ""


def _shape(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(f"{s:,}" for s in shape) + ("," if len(shape) == 1 else "") + ")"


def _size_finding(pair: ProgramStats, batched: ProgramStats, K_bytes: int) -> Finding | None:
    if batched.largest_bytes <= K_bytes:
        return None  # nothing bigger than K itself: the batched program holds no extra axis
    near = batched.largest_bytes > ARRAY_BUDGET_BYTES // 4
    sentence = (f"For one pair the largest array is {_shape(pair.largest_shape)} "
                f"({format_bytes(pair.largest_bytes)}); after nested vmap it is "
                f"{_shape(batched.largest_shape)} ({format_bytes(batched.largest_bytes)}, made by "
                f"`{batched.largest_primitive}`), larger than K itself ({format_bytes(K_bytes)}), "
                "because vmap adds the batch axes to every intermediate.")
    if near:
        sentence += (f" That is close to the {format_bytes(ARRAY_BUDGET_BYTES)} one array may take: "
                     "in your own JAX code, `lax.map(f, xs, batch_size=b)` holds only b rows at once.")
    return Finding("memory" if near else "size", "Intermediates grow with the batch", sentence,
                   LINKS["memory"], "Read from the jaxprs (XLA may fuse the array away when it runs).")


def _source_slices(jaxpr: Any) -> int:
    """Static slices of the program's own inputs (x[0]-style indexing), nested jaxprs too."""
    from jax.extend import core as jex_core

    count, inputs = 0, set(map(id, jaxpr.invars))
    for eqn in jaxpr.eqns:
        if eqn.primitive.name == "slice" and id(eqn.invars[0]) in inputs:
            count += 1
        for sub in jex_core.jaxprs_in_params(eqn.params):
            count += _source_slices(sub)
    return count


def _has_linalg(jaxpr: Any) -> bool:
    from jax.extend import core as jex_core

    return any(eqn.primitive.name in LINALG_PRIMITIVES
               or any(_has_linalg(sub) for sub in jex_core.jaxprs_in_params(eqn.params))
               for eqn in jaxpr.eqns)


def _user_indexing(jaxpr: Any) -> set[str]:
    """Indexing primitives, leaving out those inside a library's linear algebra (the row
    permutation of an LU solve is a gather the user never wrote)."""
    from jax.extend import core as jex_core

    found = set()
    for eqn in jaxpr.eqns:
        if eqn.primitive.name in INDEXING_PRIMITIVES:
            found.add(eqn.primitive.name)
        for sub in jex_core.jaxprs_in_params(eqn.params):
            if not (eqn.primitive.name == "jit" and _has_linalg(sub)):
                found |= _user_indexing(sub)
    return found


def _program_findings(pair: ProgramStats, batched: ProgramStats, pair_jaxpr: Any,
                      batched_jaxpr: Any) -> list[Finding]:
    out = []
    if pair.primitives.get("cond") and batched.primitives.get("select_n"):
        out.append(Finding(
            "select", "Both branches run", "`lax.cond` on a predicate that depends on x and y "
            "became `select_n` under vmap: both branches are computed for every pair and the "
            "result is picked pair by pair, so the cheap branch saves nothing.", LINKS["control"],
            f"cond in the jaxpr for one pair; {batched.primitives['select_n']} select_n and "
            f"{batched.primitives.get('cond', 0)} cond after vmap."))
    if batched.primitives.get("scan"):
        out.append(Finding(
            "loop", "A loop over the whole batch", "The loop (a `scan`, from `lax.fori_loop` with "
            "literal bounds) runs once for all pairs, each trip on the whole batch; a loop whose "
            "trip count depends on the data would run to the slowest pair, which is why the "
            "workbench refuses `while` loops.", LINKS["control"],
            f"{batched.primitives['scan']} scan in the batched jaxpr."))
    found = sorted(_user_indexing(batched_jaxpr))
    if found:
        out.append(Finding(
            "gather", "Indexing became a gather", f"Indexing with a computed index became "
            f"`{'`, `'.join(found)}` after vmap: one index per pair, read from memory element by "
            "element rather than as a contiguous block.", LINKS["anatomy"],
            "Primitives of the batched jaxpr."))
    elif _source_slices(pair_jaxpr):
        out.append(Finding(
            "index", "Literal indexing stays a slice", "Indexing x or y with a literal (x[0]) is a "
            "static `slice`: vmap keeps it a slice of the batched array (a column of X), no "
            "`gather`.", LINKS["anatomy"], "slice of the kernel's own inputs in the jaxpr for one pair."))
    return out


def linalg_batching(kernel: Callable[..., Any], params: Mapping[str, Any], X: np.ndarray,
                    pairs: int = 64) -> tuple[bool, str]:
    """Does this backend batch the kernel's linear algebra, or loop over it? Measured.

    Times the kernel on `pairs` pairs as one vmapped program against an XLA loop of
    single-pair calls (`lax.map` with batch_size=1) of the same pairs, both compiled,
    median of 5 after a warm-up, and reads the compiled HLO's custom calls.

    Returns:
      `(batches, detail)`: batches when the vmapped program took under half the loop's
      time; detail gives both times, the ratio and the custom-call targets.
    """
    from core.bench.timing import time_call
    from core.bench.report import format_seconds

    n = X.shape[0]
    idx = np.arange(pairs) % n
    xs, ys = jnp.asarray(X[idx]), jnp.asarray(X[(idx * 7 + 1) % n])
    one = lambda xy: kernel(params, xy[0], xy[1])  # noqa: E731
    stacked = jnp.stack([xs, ys], axis=1)  # (pairs, 2, D)
    batched = jax.jit(jax.vmap(one)).lower(stacked).compile()
    looped = jax.jit(lambda s: lax.map(one, s, batch_size=1)).lower(stacked).compile()
    t_vmap = time_call(batched, stacked, warmup=1, repeats=5, budget_s=0.2).median_s
    t_loop = time_call(looped, stacked, warmup=1, repeats=5, budget_s=0.2).median_s
    targets = sorted(set(re.findall(r'custom_call_target="([^"]+)"', batched.as_text())))
    batches = t_vmap < 0.5 * t_loop
    detail = (f"Measured on {pairs} pairs: vmap {format_seconds(t_vmap)} against a loop of single "
              f"calls (lax.map, batch_size=1) {format_seconds(t_loop)}, ratio {t_vmap / t_loop:.2f}; "
              f"compiled custom calls: {', '.join(targets) or 'none (expanded into XLA operations)'}.")
    return batches, detail


def _linalg_finding(kernel: Callable[..., Any], params: Mapping[str, Any], X: np.ndarray,
                    batched: ProgramStats) -> Finding | None:
    found = sorted(p for p in LINALG_PRIMITIVES if batched.primitives.get(p))
    if not found:
        return None
    batches, detail = linalg_batching(kernel, params, X)
    how = ("batches it: the vmapped program ran well under the time of a loop of single calls"
           if batches else "does not batch it much: the vmapped program took about as long as a "
           "loop of single calls, one small matrix after another")
    return Finding("linalg", "Linear algebra under vmap",
                   f"The kernel uses `{'`, `'.join(found)}`; vmap hands it every pair at once (a "
                   "stack of small matrices, or one matrix with many right-hand sides), and on "
                   f"this CPU backend XLA {how}.", LINKS["race"], detail)


def _float64_finding(kernel: Callable[..., Any], params: Mapping[str, Any], d: int,
                     dtype: str) -> Finding | None:
    if dtype != "float32":
        return None
    x = jax.ShapeDtypeStruct((d,), jnp.float32)
    p32 = {k: jax.ShapeDtypeStruct(np.shape(v), jnp.float32) for k, v in params.items()}
    try:
        # With x64 on, what would the program compute in? (Off, JAX silently keeps float32.)
        with jax.enable_x64(True):
            closed = jax.make_jaxpr(kernel)(p32, x, x)
    except Exception:  # noqa: BLE001 - a kernel that only traces in float32 has no finding here
        return None
    first = _first_float64(closed.jaxpr)
    if first is None:
        return None
    return Finding("float64", "float32 in, float64 inside", "With float32 inputs the kernel "
                   f"produces float64 values (first from `{first}`: a float64 literal, array or "
                   "dtype, e.g. np.eye or np.ones without dtype): with x64 on the computation is "
                   "promoted to float64, and with it off JAX silently computes in float32 instead.",
                   LINKS["precision"], "Traced with x64 on and float32 x, y and parameters.")


def _first_float64(jaxpr: Any) -> str | None:
    from jax.extend import core as jex_core

    for eqn in jaxpr.eqns:
        if any(getattr(v.aval, "dtype", None) == np.float64 for v in eqn.outvars):
            return eqn.primitive.name
        for sub in jex_core.jaxprs_in_params(eqn.params):
            name = _first_float64(sub)
            if name is not None:
                return name
    return None


def _nan_findings(K: np.ndarray, kernel: Callable[..., Any], params: Mapping[str, Any],
                  X: np.ndarray) -> list[Finding]:
    out = []
    bad = ~np.isfinite(K)
    if bad.any():
        i, j = (int(v) for v in np.argwhere(bad)[0])
        out.append(Finding("nan", "NaN or infinite values in K",
                           f"{int(bad.sum()):,} entries of K are NaN or infinite, the first at "
                           f"i = {i}, j = {j} (K[{i}, {j}] = {K[i, j]}).", LINKS["precision"]))
    m = min(_GRAD_ROWS, X.shape[0])
    rows = jnp.asarray(X[:m])
    grad_x = jax.jit(jax.vmap(jax.grad(kernel, argnums=1), in_axes=(None, 0, 0)))
    try:
        G = np.asarray(grad_x(params, rows, rows))
    except Exception:  # noqa: BLE001 - e.g. an integer output: no gradient to check
        return out
    bad_rows = np.flatnonzero(~np.all(np.isfinite(G), axis=1))
    if bad_rows.size:
        out.append(Finding(
            "nan_grad", "NaN gradient where x == y",
            f"jax.grad of k with respect to x is NaN or infinite at {bad_rows.size} of the {m} "
            f"pairs with x == y (first: row {int(bad_rows[0])}): `np.sqrt` of a zero squared "
            f"distance has an infinite derivative; write `{SAFE_SQRT}`.", LINKS["gradients"],
            f"jax.vmap(jax.grad(k, argnums=1)) at (X[i], X[i]) for the first {m} rows."))
    return out


def _matrix_findings(n: int, asymmetry: float, min_eigenvalue: float, words: str,
                     bound: float, scale: float, dtype: str) -> list[Finding]:
    out = []
    tol = {"float32": 1e-5, "float64": 1e-12}[dtype] * scale
    if np.isfinite(asymmetry) and asymmetry > tol:
        out.append(Finding("not_symmetric", "K is not symmetric",
                           f"max |K − Kᵀ| is {asymmetry:.3g}: k(x, y) ≠ k(y, x), so this is not a "
                           "kernel, and the eigenvalues below are those of (K + Kᵀ)/2.",
                           LINKS["kernels"]))
    if words == "indefinite":
        out.append(Finding("not_psd", "Not positive semi-definite",
                           f"The smallest eigenvalue of K is {min_eigenvalue:.3g}, below the "
                           f"round-off bound −{bound:.2g} for N = {n:,} in {dtype}: on these points "
                           "the function is not a positive semi-definite kernel, and a Cholesky "
                           "factorisation of K would fail.", LINKS["kernels"],
                           "Eigenvalues of (K + Kᵀ)/2 in float64 (core.lessons.spectrum)."))
    return out


def findings_for(kernel: Callable[..., Any], X: np.ndarray, params: Mapping[str, Any], dtype: str,
                 pair_jaxpr: Any, batched_jaxpr: Any, K: np.ndarray, asymmetry: float,
                 min_eigenvalue: float, words: str, bound: float) -> list[Finding]:
    """Every finding, from what `compute_view` already has; call inside the `dtype_scope`.

    Args:
      kernel: k(params, x, y); X: (N, D) NumPy in `dtype`; params: name -> array.
      pair_jaxpr, batched_jaxpr: ClosedJaxprs for one pair and after nested vmap.
      K: (N, N); asymmetry: max |K − Kᵀ|; min_eigenvalue, words, bound: the spectrum's
        smallest eigenvalue, `definiteness` and `roundoff_bound`.
    """
    pair, batched = program_stats(pair_jaxpr), program_stats(batched_jaxpr)
    out = []
    size = _size_finding(pair, batched, K.nbytes)
    if size is not None:
        out.append(size)
    out += _program_findings(pair, batched, pair_jaxpr.jaxpr, batched_jaxpr.jaxpr)
    linalg = _linalg_finding(kernel, params, X, batched)
    if linalg is not None:
        out.append(linalg)
    promo = _float64_finding(kernel, params, X.shape[1], dtype)
    if promo is not None:
        out.append(promo)
    out += _nan_findings(K, kernel, params, X)
    finite = K[np.isfinite(K)]
    scale = max(1.0, float(np.max(np.abs(finite)))) if finite.size else 1.0
    out += _matrix_findings(X.shape[0], asymmetry, min_eigenvalue, words, bound, scale, dtype)
    return out

