"""One kernel of the registry, or the sum or product of two, as one value.

A `KernelChoice` is small and hashable (names and parameter tuples), so the UI
can cache on it; `choice.fn` is the vector-form `k(params, x, y)` that `gram`
batches and `choice.params` the parameter dict it takes. The composed function
is built once per (op, k1, k2) and reused, because `gram_jit` compiles once per
kernel *function object*: a fresh closure on every rerun would recompile.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Mapping

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from core.kernels.gram import gram_jit
from core.kernels.functions import KERNELS, KernelFn, default_params, product_kernel, sum_kernel
from core.precision import as_float_array, canonical_dtype, dtype_scope

__all__ = ["OPS", "KernelChoice", "kernel_values", "kernel_gram"]

OPS = {"single": "one kernel", "sum": "sum k₁ + k₂", "product": "product k₁ · k₂"}

Params = tuple[tuple[str, float], ...]


@functools.lru_cache(maxsize=None)
def _composed(op: str, k1: str, k2: str | None) -> KernelFn:
    if op == "single":
        return KERNELS[k1].fn
    combine = sum_kernel if op == "sum" else product_kernel
    return combine(KERNELS[k1].fn, KERNELS[k2].fn)


def _as_params(name: str, values: Mapping[str, float] | Params | None) -> Params:
    return tuple(sorted(default_params(name, **dict(values or {})).items()))


@dataclasses.dataclass(frozen=True)
class KernelChoice:
    """A registry kernel, or `op` ("sum"/"product") of two, with parameter values.

    Attributes:
      op: one of `OPS`.
      k1, k2: keys of `core.kernels.functions.KERNELS` (k2 ignored for "single").
      p1, p2: sorted (name, value) pairs of each kernel's parameters.
    """

    op: str
    k1: str
    p1: Params
    k2: str = "rbf"
    p2: Params = ()

    @classmethod
    def make(cls, op: str, k1: str, p1: Mapping[str, float] | None = None,
             k2: str = "rbf", p2: Mapping[str, float] | None = None) -> "KernelChoice":
        """A choice with each kernel's defaults overridden by `p1`/`p2`.

        Raises:
          ValueError: unknown op, kernel or parameter name.
        """
        if op not in OPS:
            raise ValueError(f"Unknown combination {op!r}: choose one of {', '.join(OPS)}.")
        for k in (k1, k2):
            if k not in KERNELS:
                raise ValueError(f"Unknown kernel {k!r}: choose one of {', '.join(KERNELS)}.")
        return cls(op, k1, _as_params(k1, p1), k2, _as_params(k2, p2) if op != "single" else ())

    @property
    def parts(self) -> tuple[tuple[str, Params], ...]:
        """(kernel name, params) of each component: one or two."""
        return ((self.k1, self.p1),) if self.op == "single" else ((self.k1, self.p1), (self.k2, self.p2))

    @property
    def fn(self) -> KernelFn:
        """The vector form `k(params, x, y)`; the same object for the same op and kernels."""
        return _composed(self.op, self.k1, None if self.op == "single" else self.k2)

    def params(self, dtype: DTypeLike = "float32") -> dict:
        """The parameter dict `fn` takes, values as 0-d arrays of `dtype`.

        0-d arrays (not Python floats) keep float32 data in float32 and let a new
        value reuse the compiled code.
        """
        dt = canonical_dtype(dtype)
        as_dict = [{k: np.asarray(v, dtype=dt) for k, v in p} for _, p in self.parts]
        return as_dict[0] if self.op == "single" else {"k1": as_dict[0], "k2": as_dict[1]}

    @property
    def stationary(self) -> bool:
        """True when k(x, y) depends on x - y only (every component stationary)."""
        return all(KERNELS[k].stationary for k, _ in self.parts)

    @property
    def has_gamma(self) -> bool:
        """True when some component has a gamma (what `with_gamma` sets)."""
        return any(name == "gamma" for _, p in self.parts for name, _ in p)

    def with_gamma(self, gamma: float) -> "KernelChoice":
        """This choice with every component's gamma set to `gamma`."""
        def swap(p: Params) -> Params:
            return tuple((k, float(gamma) if k == "gamma" else v) for k, v in p)
        return dataclasses.replace(self, p1=swap(self.p1), p2=swap(self.p2))

    @property
    def label(self) -> str:
        """What the app shows, e.g. "RBF (Gaussian) + Linear"."""
        names = [KERNELS[k].label for k, _ in self.parts]
        return {"single": names[0], "sum": " + ".join(names), "product": " × ".join(names)}[self.op]

    @property
    def formula(self) -> str:
        """LaTeX of k(x, y)."""
        f = [KERNELS[k].formula for k, _ in self.parts]
        if self.op == "single":
            return f[0]
        # Each part has its own gamma: name them apart.
        f = [part.replace(r"\gamma", rf"\gamma_{i}") for i, part in enumerate(f, start=1)]
        joiner = "+" if self.op == "sum" else r"\cdot"
        return rf"\left[{f[0]}\right] {joiner} \left[{f[1]}\right]"


def kernel_gram(choice: KernelChoice, X: ArrayLike, Y: ArrayLike | None = None,
                dtype: DTypeLike | None = None) -> np.ndarray:
    """The Gram matrix of `choice` by jitted Method I (`gram_jit`).

    Args:
      choice: the kernel.
      X: shape (N, D).
      Y: shape (M, D); None means Y = X.
      dtype: compute dtype; None keeps float64 input as float64, else float32.

    Returns:
      shape (N, M), the compute dtype.
    """
    X = as_float_array(X, dtype)
    Y = None if Y is None else as_float_array(Y, X.dtype)
    with dtype_scope(X.dtype):
        return np.asarray(gram_jit(choice.fn, choice.params(X.dtype), X, Y))


def kernel_values(choice: KernelChoice, x0: ArrayLike, ys: ArrayLike,
                  dtype: DTypeLike | None = None) -> np.ndarray:
    """`k(x0, y)` for each row y of `ys`: the kernel as a function of its second point.

    For a stationary kernel with x0 = 0 and ys = r[:, None] this is k as a
    function of distance r.

    Args:
      x0: shape (D,).
      ys: shape (M, D).

    Returns:
      shape (M,), the compute dtype.
    """
    x0 = np.atleast_2d(as_float_array(x0, dtype))
    return kernel_gram(choice, x0, ys, dtype=x0.dtype)[0]
