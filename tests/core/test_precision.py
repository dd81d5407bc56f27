"""Tests of `core.precision`: each thread computes in the dtype it asked for.

Streamlit runs every session's script in its own thread: one user's float64 must
not leak into another's float32 (nor the other way round), however their work
interleaves. The reference is NumPy float64 on the same points.
"""

from __future__ import annotations

import threading

import jax.numpy as jnp
import numpy as np
import pytest
from scipy.spatial.distance import cdist

from core.dense.methods import METHODS
from core.kernels.distances import pairwise_sqeuclidean
from core.precision import canonical_dtype, dtype_scope

ITERATIONS = 60


def test_two_threads_computing_at_once_each_get_their_own_dtype():
    rng = np.random.default_rng(7)
    # Points 1e-6 apart around 1: float64 resolves their distances (about 1e-12 in
    # d², to 1e-16 relative of the squares), float32 cannot (its spacing near 1 is 1.2e-7).
    X = 1 + rng.normal(size=(20, 3)) * 1e-6
    exact = cdist(X, X, "sqeuclidean")
    start = threading.Barrier(2, timeout=60)
    failures: list[str] = []

    def work(dtype: str) -> None:
        try:
            for i in range(ITERATIONS):
                start.wait()  # both threads ask for their scope at the same moment
                with dtype_scope(dtype):
                    # What JAX makes of data already in the scope's dtype (core's
                    # entry points convert with NumPy first, see dtype_scope).
                    default = (jnp.asarray(X.astype(dtype)) * 1.0).dtype
                    new = jnp.zeros(3).dtype  # JAX's default float in this scope
                    d2 = pairwise_sqeuclidean(X, method="vmap", dtype=dtype)
                K = METHODS["jit_method1"].compute(X, None, 1e11, dtype=dtype)
                got = {"JAX": default, "new arrays": new, "distances": d2.dtype, "K": K.dtype}
                if any(v != np.dtype(dtype) for v in got.values()):
                    failures.append(f"{dtype} thread, iteration {i}: {got}")
                if dtype == "float64" and not np.allclose(d2, exact, rtol=0, atol=1e-20):
                    # float64 round-off: a few ulps of the 1e-12 entries (1e-28 each);
                    # float32 would be wrong by its spacing squared, 1e-14.
                    failures.append(f"float64 thread, iteration {i}: distances in float32 precision")
                if dtype == "float64" and not np.allclose(K, np.exp(-1e11 * exact), rtol=0, atol=1e-9):
                    # exp(-γ d²) with γd² about 0.3: float64 round-off is about 1e-16·γd²
                    # relative to d², 1e-16 here; float32 would miss it by 1e-3.
                    failures.append(f"float64 thread, iteration {i}: K in float32 precision")
        except threading.BrokenBarrierError:
            failures.append(f"{dtype} thread: the other thread stopped")
        except Exception as error:  # noqa: BLE001 - reported below, with the thread's dtype
            start.abort()
            failures.append(f"{dtype} thread: {error!r}")

    threads = [threading.Thread(target=work, args=(d,)) for d in ("float32", "float64")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    assert not failures, failures[:5]


@pytest.mark.parametrize("given, expected", [("float32", "float32"), ("float64", "float64"),
                                             (np.int64, "float32"), (np.float16, "float32"),
                                             (None, "float32")])
def test_canonical_dtype(given, expected):
    assert canonical_dtype(given) == np.dtype(expected)
