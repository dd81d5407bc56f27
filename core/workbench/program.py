"""The bounds a traced user program must meet before XLA compiles it, and the compile.

A user's kernel is hostile until shown otherwise: after the language's static
checks it is traced to a jaxpr, and the jaxpr (with every jaxpr nested in its
equations: cond branches, scan and jit bodies, custom_jvp calls) is walked here
before anything is compiled:

* a `while` primitive is refused: its trip count is data, so no bound holds;
* a `scan` (what `lax.fori_loop` with literal bounds and `lax.map` become) counts
  its body `length` times;
* any single intermediate array above `ARRAY_BUDGET_BYTES` is refused, naming the
  primitive and the shape, with `lax.map(..., batch_size=b)` as the way out;
* the total work (elements produced, a dot counted by its multiply-adds) is
  bounded by `WORK_BUDGET`, so a program cannot be small in memory and still
  run for minutes.

Only then is it compiled, with the project's `COMPILER_OPTIONS`, into a bounded
LRU of executables (one per worker process).
"""

from __future__ import annotations

import collections
import dataclasses
import math
from typing import Any, Callable, Hashable

import jax
import numpy as np
from jax.extend import core as jex_core

from core.compile_options import COMPILER_OPTIONS
from core.dense.memory import DENSE_MEMORY_BUDGET_BYTES, format_bytes
from core.errors import UserCodeError

__all__ = ["ARRAY_BUDGET_BYTES", "WORK_BUDGET", "MAX_CACHED_PROGRAMS", "ProgramStats",
           "program_stats", "check_program", "compile_checked", "clear_compiled"]

# One intermediate array may take an eighth of the app's dense budget (2 GiB / 8 =
# 256 MiB): a worker holds a few such arrays at once and stays under its 1.5 GiB limit.
ARRAY_BUDGET_BYTES = DENSE_MEMORY_BUDGET_BYTES // 8

# Elements produced by the whole program (a dot: its multiply-adds). XLA's CPU
# backend manages roughly 1e9 simple element operations a second on one core of this
# machine, so 2e10 is about the 10 s job limit: a program above it would be killed anyway.
WORK_BUDGET = 2e10

# Compiled executables kept per worker: the page's few programs for the current source.
MAX_CACHED_PROGRAMS = 8

LOOP_HINT = ("write a loop with literal bounds instead: `for i in range(10):` or "
             "`lax.fori_loop(0, 10, body, init)`, whose trip count is known before it runs")
MAP_HINT = ("compute it in pieces with `lax.map(f, xs, batch_size=b)`, which holds only b "
            "rows' intermediates at once (vmap, further: Memory)")


@dataclasses.dataclass(frozen=True)
class ProgramStats:
    """What a walk of a jaxpr found.

    Attributes:
      largest_bytes: bytes of the largest intermediate (or output) array.
      largest_shape: its shape; largest_primitive: the primitive that makes it;
        largest_dtype: its dtype name.
      work: elements produced over the whole program (scan bodies times their
        length, a dot_general by its multiply-adds).
      primitives: how often each primitive occurs (nested jaxprs included, each
        scan body counted once).
      dtypes: the dtype names of every value produced.
    """

    largest_bytes: int
    largest_shape: tuple[int, ...]
    largest_primitive: str
    largest_dtype: str
    work: float
    primitives: dict[str, int]
    dtypes: frozenset[str]


def _aval_bytes(aval: Any) -> int:
    shape = getattr(aval, "shape", ())
    dtype = getattr(aval, "dtype", None)
    if dtype is None:
        return 0
    return int(math.prod(shape)) * np.dtype(dtype).itemsize


# A linear-algebra primitive is one library call per matrix of the batch (LAPACK on
# CPU): even a 2 × 2 solve costs a call's overhead, counted as ~2,000 element operations.
_LINALG_CALL_WORK = 2000.0
_LINALG = frozenset({"cholesky", "eigh", "eig", "lu", "triangular_solve", "qr", "svd",
                     "householder_product", "schur", "hessenberg", "tridiagonal",
                     "tridiagonal_solve"})


def _eqn_work(eqn: Any) -> float:
    """Elements the equation produces; a dot_general counts its multiply-adds, a
    linear-algebra call a fixed cost per matrix."""
    out = sum(float(math.prod(getattr(v.aval, "shape", ()))) for v in eqn.outvars)
    if eqn.primitive.name in _LINALG and eqn.invars:
        shape = getattr(eqn.invars[0].aval, "shape", ())
        out += _LINALG_CALL_WORK * float(math.prod(shape[:-2]))
    if eqn.primitive.name == "dot_general":
        (lhs_contract, _), _ = eqn.params["dimension_numbers"]
        lhs_shape = eqn.invars[0].aval.shape
        out *= max(1, math.prod(lhs_shape[d] for d in lhs_contract))
    return out


def _walk(jaxpr: Any, multiplier: float, acc: dict[str, Any]) -> None:
    for eqn in jaxpr.eqns:
        name = eqn.primitive.name
        acc["primitives"][name] += 1
        if name == "while":
            raise UserCodeError(
                "the kernel contains a `while` loop (a `lax.while_loop`, or a loop whose "
                "bounds depend on the data), which could run forever; " + LOOP_HINT + ".")
        acc["work"] += multiplier * _eqn_work(eqn)
        for v in eqn.outvars:
            nbytes = _aval_bytes(v.aval)
            dtype = getattr(v.aval, "dtype", None)
            if dtype is not None:
                acc["dtypes"].add(np.dtype(dtype).name)
            if nbytes > acc["largest"][0]:
                acc["largest"] = (nbytes, tuple(v.aval.shape), name, np.dtype(dtype).name)
        # A scan runs its body `length` times: its work, not its memory, multiplies.
        inner = multiplier * eqn.params["length"] if name == "scan" else multiplier
        for sub in jex_core.jaxprs_in_params(eqn.params):
            _walk(sub, inner, acc)


def program_stats(closed: Any) -> ProgramStats:
    """Walk `closed` (a ClosedJaxpr or Jaxpr) and every jaxpr nested in it.

    Raises:
      UserCodeError: the program contains a `while` primitive.
    """
    jaxpr = getattr(closed, "jaxpr", closed)
    acc: dict[str, Any] = {"primitives": collections.Counter(), "work": 0.0,
                           "largest": (0, (), "input", "float32"), "dtypes": set()}
    for v in [*jaxpr.invars, *jaxpr.constvars]:
        nbytes = _aval_bytes(v.aval)
        if nbytes > acc["largest"][0]:
            acc["largest"] = (nbytes, tuple(v.aval.shape), "input", np.dtype(v.aval.dtype).name)
    _walk(jaxpr, 1.0, acc)
    nbytes, shape, prim, dtype = acc["largest"]
    return ProgramStats(nbytes, shape, prim, dtype, acc["work"], dict(acc["primitives"]),
                        frozenset(acc["dtypes"]))


def check_program(closed: Any, array_budget: int = ARRAY_BUDGET_BYTES,
                  work_budget: float = WORK_BUDGET) -> ProgramStats:
    """`program_stats`, refusing a program over the array or work budget.

    Args:
      closed: the traced program (ClosedJaxpr), e.g. `jax.jit(f).trace(...).jaxpr`.
      array_budget: the most bytes one intermediate array may take.
      work_budget: the most elements the whole program may produce.

    Raises:
      UserCodeError: a `while` loop, an array over `array_budget` (named by its
        primitive, shape and dtype), or work over `work_budget`.
    """
    stats = program_stats(closed)
    if stats.largest_bytes > array_budget:
        raise UserCodeError(
            f"the batched program would build an array of shape {stats.largest_shape} "
            f"({stats.largest_dtype}, {format_bytes(stats.largest_bytes)}, made by "
            f"`{stats.largest_primitive}`), above the {format_bytes(array_budget)} a workbench "
            f"array may take. Use fewer points or smaller arrays in the kernel, or {MAP_HINT}.")
    if stats.work > work_budget:
        raise UserCodeError(
            f"the batched program would compute about {stats.work:.2g} values, above the "
            f"{work_budget:.0e} a workbench job may compute in its time limit; use fewer "
            "points, fewer or shorter loops, or smaller arrays in the kernel.")
    return stats


_compiled: collections.OrderedDict[Hashable, tuple[Any, ProgramStats]] = collections.OrderedDict()


def compile_checked(key: Hashable, fn: Callable[..., Any], *args: Any,
                    array_budget: int = ARRAY_BUDGET_BYTES) -> tuple[Any, ProgramStats]:
    """`jax.jit(fn)` traced for `args`, checked by `check_program`, then compiled.

    Call it inside the arguments' `dtype_scope` and put the dtype in `key`: an
    executable runs only under the x64 mode it was compiled in.

    Args:
      key: what identifies the program (e.g. (role, source, shapes, dtype)); the
        `MAX_CACHED_PROGRAMS` most recently used are kept.
      fn: the function; args: example arguments (arrays or pytrees of them).
      array_budget: as in `check_program`.

    Returns:
      `(compiled, stats)`: call `compiled(*args)`.

    Raises:
      UserCodeError: the program breaks a bound (nothing was compiled).
    """
    if key in _compiled:
        _compiled.move_to_end(key)
        return _compiled[key]
    traced = jax.jit(fn, compiler_options=COMPILER_OPTIONS).trace(*args)
    stats = check_program(traced.jaxpr, array_budget=array_budget)
    entry = (traced.lower().compile(), stats)
    _compiled[key] = entry
    while len(_compiled) > MAX_CACHED_PROGRAMS:
        _compiled.popitem(last=False)
    return entry


def clear_compiled() -> None:
    """Forget every cached executable (tests; a worker that wants its memory back)."""
    _compiled.clear()
