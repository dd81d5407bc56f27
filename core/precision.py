"""Dtype handling: float32 by default, float64 only where it is asked for.

JAX computes in float32 unless x64 is enabled, and enabling it globally would
change every other computation in the process (and every other user of the app).
So each public entry point runs its JAX code inside `dtype_scope(dtype)`, which
turns x64 on for this thread only, and only when float64 was asked for.
"""

from __future__ import annotations

import contextlib
from typing import Iterator

import jax
import numpy as np
from numpy.typing import ArrayLike, DTypeLike

__all__ = ["SUPPORTED_DTYPES", "canonical_dtype", "dtype_scope", "as_float_array"]

SUPPORTED_DTYPES = ("float32", "float64")


def canonical_dtype(dtype: DTypeLike | None, like: ArrayLike | None = None) -> np.dtype:
    """The float dtype to compute in.

    Args:
      dtype: "float32", "float64", a NumPy dtype, or None.
      like: when `dtype` is None, an array whose dtype decides (float64 stays
        float64, anything else becomes float32).

    Returns:
      `np.dtype('float32')` or `np.dtype('float64')`.
    """
    if dtype is None:
        dtype = getattr(like, "dtype", np.float32)
    dt = np.dtype(dtype)
    if dt == np.float64:
        return np.dtype(np.float64)
    if dt == np.float32 or dt.kind in "iub" or dt == np.float16:
        return np.dtype(np.float32)
    raise ValueError(f"Unsupported dtype {dt}: use float32 or float64.")


@contextlib.contextmanager
def dtype_scope(dtype: DTypeLike) -> Iterator[None]:
    """Run the body with JAX's x64 mode on if and only if `dtype` is float64.

    x64 is a thread-local JAX setting, so one Streamlit session asking for float64
    does not change another session's float32 results. A float32 scope turns x64
    off even when `JAX_ENABLE_X64` is set, so that "float32" means float32 there too.

    Convert inputs with NumPy first (`as_float_array`), as every entry point of
    `core` does: in JAX 0.10, `jnp.asarray` of a float64 NumPy array now and then
    returns the dtype of another thread's scope while both run
    (tests/core/test_precision.py), whereas arrays already in the scope's dtype
    keep it.
    """
    with jax.enable_x64(bool(canonical_dtype(dtype) == np.float64)):
        yield


def as_float_array(x: ArrayLike, dtype: DTypeLike | None = None) -> np.ndarray:
    """`x` as a NumPy array of the compute dtype (see `canonical_dtype`)."""
    arr = np.asarray(x)
    return arr.astype(canonical_dtype(dtype, arr), copy=False)
