"""The jobs a worker process runs, each from the user's source text.

Each job turns the source into a kernel through the language (`user_kernel`:
allowlisted, interpreted, never `exec`) and then calls the callable-taking code
of `view`, `diagnose` and `timings`. Only a worker process calls these
(`core.workbench.worker`); the server reaches them through `core.workbench.run`.
"""

from __future__ import annotations

import collections
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from core.precision import dtype_scope

__all__ = ["kernel_for", "gram_job", "view_job", "time_job", "diagnose_job"]

_kernels: collections.OrderedDict[str, tuple[Callable[..., Any], tuple[str, ...]]] = collections.OrderedDict()


def kernel_for(source: str) -> tuple[Callable[..., Any], tuple[str, ...]]:
    """`(user_kernel(source), param_names)`, the last few kept (the page asks again and again).

    Raises:
      UserCodeError: the source breaks a rule of the language.
    """
    if source in _kernels:
        _kernels.move_to_end(source)
        return _kernels[source]
    from core.workbench.language import check_source, user_kernel

    entry = (user_kernel(source), tuple(check_source(source).param_names))
    _kernels[source] = entry
    while len(_kernels) > 8:
        _kernels.popitem(last=False)
    return entry


def gram_job(source: str, X: np.ndarray, Y: np.ndarray | None, params: Mapping[str, Any],
             dtype: str | None = None) -> np.ndarray:
    """K (N, M) by Method I, through the bounds: `core.workbench.run.user_gram`'s work."""
    from core.workbench.view import gram_of, prepare

    kernel, _ = kernel_for(source)
    Xp, p, name = prepare(X, params, dtype if dtype is not None else np.asarray(X).dtype)
    Yp = Xp if Y is None else prepare(Y, {}, name)[0]
    if Y is not None and Yp.shape[1] != Xp.shape[1]:
        from core.errors import UserCodeError

        raise UserCodeError(f"X and Y need the same number of columns; got {Xp.shape} and {Yp.shape}.")
    with dtype_scope(name):
        from core.workbench.ways import check_scalar_kernel

        check_scalar_kernel(kernel, Xp.shape[1], name, p)
        K, _ = gram_of(kernel, source, Xp, Yp, p)
    return K


def view_job(source: str, X: np.ndarray, params: Mapping[str, Any], dtype: str,
             gammas: Sequence[float] | None = None, side: int = 128,
             fast: bool = False) -> Any:
    """`core.workbench.view.compute_view` for the source; `fast`: K, frames and spectrum
    only (no Method II, pair list or findings)."""
    from core.workbench.view import compute_view

    kernel, names = kernel_for(source)
    return compute_view(kernel, source, X, params, dtype, gammas=gammas, side=side,
                        uses_gamma="gamma" in names, findings=not fast, all_ways=not fast)


def diagnose_job(source: str, X: np.ndarray, params: Mapping[str, Any], dtype: str) -> list:
    """Every finding for the source on X (`core.workbench.diagnose.findings_for`, through
    the view without its frames)."""
    from core.workbench.view import compute_view

    kernel, _ = kernel_for(source)
    return list(compute_view(kernel, source, X, params, dtype).findings)


def time_job(source: str, X: np.ndarray, params: Mapping[str, Any], dtype: str,
             budget_s: float = 0.5) -> dict:
    """Each way and the built-in RBF timed (`core.workbench.timings.time_kernel_ways`)."""
    from core.workbench.timings import time_kernel_ways

    kernel, _ = kernel_for(source)
    return time_kernel_ways(kernel, source, X, params, dtype, budget_s=budget_s)
