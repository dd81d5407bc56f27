"""Shared fixtures and marker registration for the test suite.

The suite must pass with JAX's x64 mode off (the default, what the app runs
with) and on (`JAX_ENABLE_X64=1`), so tests that need float64 JAX code enter
`jax.enable_x64(True)` themselves instead of relying on the environment.
"""

from __future__ import annotations

import os
import sys

# One BLAS thread per call, set before NumPy, SciPy or jaxlib load OpenBLAS (and
# inherited by the e2e server). The suite runs on 2 shared cores next to JAX's
# own threads, Streamlit's script threads and Chromium: a 2-thread OpenBLAS then
# waits at every internal barrier for its other thread to be scheduled, and one
# 400 x 400 eigvalsh took 0.80 s instead of 0.013 s under load (the Kernel lab's
# spectrum sweep: 18 s instead of 0.35 s). Results agree within the per-dtype
# tolerances either way; an explicit OPENBLAS_NUM_THREADS is kept.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
if "numpy" in sys.modules:  # already loaded by a plugin: lower its BLAS pool now
    from threadpoolctl import threadpool_limits

    threadpool_limits(int(os.environ["OPENBLAS_NUM_THREADS"]), user_api="blas")

# The app asks XLA for one CPU device per core before JAX starts (app.py,
# launch/cpu_devices.py). The suite asks the same, first, so that the core tests,
# AppTest (whose app.py then finds JAX started and leaves it) and the e2e server
# (which inherits XLA_FLAGS) all run on the devices the app runs on, whichever
# tests are selected.
from launch.cpu_devices import split_cpu_into_devices  # noqa: E402

split_cpu_into_devices()

# The app keeps compiled programs in the user's cache folder (ui/server/compile_cache.py): the
# suite, AppTest's app.py and every e2e server it starts use a temporary one instead. No
# background warm-up (ui/server/warmup.py) unless a test asks for it: it would compete with the
# tests for the 2 cores, and the tests marked `alone` measure the server's CPU.
import tempfile  # noqa: E402

os.environ.setdefault("VMAP_JAX_CACHE_DIR", tempfile.mkdtemp(prefix="vmap-test-jax-cache-"))
os.environ.setdefault("VMAP_WARMUP", "0")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

# Per-dtype tolerances, relative to the scale of the quantity compared (for a
# distance matrix: its squared data scale; for an RBF Gram matrix, whose entries
# are at most 1, absolute). float32's unit round-off is 6e-8: 2e-6 leaves room for
# a few dozen round-offs accumulated over D features, and float64's 1e-12 leaves
# the same kind of room above its 1.1e-16.
TOL = {"float32": 2e-6, "float64": 1e-12}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "e2e: end-to-end tests that drive the app in a real browser")
    config.addinivalue_line("markers", "slow: tests that take more than a few seconds")
    config.addinivalue_line(
        "markers",
        "numpy_only: a module that runs no JAX code (NumPy, SciPy, pandas only), so JAX's x64 "
        "mode cannot change it; CI's JAX_ENABLE_X64=1 pass deselects it (.ci/run)")
    config.addinivalue_line(
        "markers",
        "alone: a test that measures the server's memory or CPU, so it must have the machine to "
        "itself: the README's test line runs the rest in parallel (pytest-xdist, -m 'not alone') "
        "and these afterwards in a pytest of their own (-m alone)")


@pytest.fixture
def rng() -> np.random.Generator:
    """A freshly seeded generator: every test sees the same data on every run."""
    return np.random.default_rng(20240601)


@pytest.fixture(params=["float32", "float64"])
def dtype(request: pytest.FixtureRequest) -> str:
    """Each supported compute dtype in turn, as a string."""
    return request.param


@pytest.fixture
def tol(dtype: str) -> float:
    """The relative tolerance `TOL[dtype]` of the `dtype` under test."""
    return TOL[dtype]
