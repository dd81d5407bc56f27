"""Each way of batching a user's kernel timed, next to the built-in RBF on the same data.

Runs in a worker process. Every program is traced and checked against the
workbench's bounds (`core.workbench.program.check_program`) before
`core.bench.timing.time_jitted` compiles and times it, so timing cannot run
what the view would refuse.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

import jax

from core.bench.timing import TimingResult, time_jitted
from core.compile_options import COMPILER_OPTIONS
from core.errors import UserCodeError
from core.kernels import median_heuristic_gamma, rbf_kernel
from core.precision import dtype_scope
from core.workbench.program import check_program
from core.workbench.view import prepare
from core.workbench.ways import WAYS, check_scalar_kernel, method_one

__all__ = ["REFERENCE", "time_kernel_ways"]

REFERENCE = "built-in RBF"


def _timed(fn: Callable[..., Any], X: Any, params: Any, budget_s: float) -> TimingResult:
    traced = jax.jit(fn, compiler_options=COMPILER_OPTIONS).trace(X, X, params)
    check_program(traced.jaxpr)  # the same bounds as every other user program
    result, _ = time_jitted(fn, X, X, params, warmup=1, repeats=21, budget_s=budget_s,
                            min_repeats=3)
    return result


def time_kernel_ways(kernel: Callable[..., Any], source: str, X: Any, params: Mapping[str, Any],
                     dtype: str, budget_s: float = 0.5) -> dict[str, TimingResult]:
    """Time Method I, Method II, the pair list and the built-in RBF on X against itself.

    Args:
      kernel: k(params, x, y); source: its text (unused here: timings are never cached).
      X: (N, D); params: name -> number; dtype: "float32" or "float64".
      budget_s: the time budget of each way's repeats (compile apart).

    Returns:
      name -> TimingResult (compile_s apart; median and spread of up to 21 calls), the
      ways that fit the bounds in `WAYS` order, then `REFERENCE`: `core.kernels.rbf_kernel`
      through the same Method I with params['gamma'] (or the median heuristic's gamma).

    Raises:
      UserCodeError: Method I itself breaks a bound, or the kernel returns no scalar.
    """
    X, p, dtype = prepare(X, params, dtype)
    out: dict[str, TimingResult] = {}
    with dtype_scope(dtype):
        check_scalar_kernel(kernel, X.shape[1], dtype, p)
        for name, (build, _) in WAYS.items():
            try:
                out[name] = _timed(build(kernel), X, p, budget_s)
            except UserCodeError:
                if name == "Method I":
                    raise
                # A way over the bounds (the pair list's N² copies) is left out, not fatal.
        gamma = p["gamma"] if "gamma" in p else median_heuristic_gamma(X)
        ref_params = {"gamma": jax.numpy.asarray(gamma, dtype=dtype)}
        out[REFERENCE] = _timed(method_one(rbf_kernel), X, ref_params, budget_s)
    return out

