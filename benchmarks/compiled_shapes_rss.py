"""Resident memory of a server visited with many N: shape buckets against one program per N.

Runs the per-N jitted paths the app uses (the Gram explorer's distances, the
registry's jitted methods, the row panels, the other kernels' Method I) for 200
different N from 10 to 400, D = 2, float32, and reports the growth of the
resident set (VmRSS) and the number of XLA compilations:

  bucketed  as the app runs them (rows padded to `core.dense.bucket_size`);
  per-N     the same jitted functions called on the raw shapes (what it was).

The two phases use different D (2 and 3) so that neither reuses the other's
programs. RSS is noisy (allocator arenas, page reuse): read it to the nearest MB.

    python benchmarks/compiled_shapes_rss.py
"""

from __future__ import annotations

import os
import sys
from functools import partial

import jax
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from core.dense import METHODS, bucket_size, on_buckets, sqdist_for  # noqa: E402
from core.kernels.distances import pairwise_sqeuclidean_jax  # noqa: E402
from core.kernels.functions import rbf_kernel  # noqa: E402
from core.kernels.gram import gram_jit  # noqa: E402
from core.kernels.numerics import shared_shift  # noqa: E402

SIZES = np.unique(np.linspace(10, 400, 200).astype(int))
COMPILES = [0]


def _listen(event, duration, **kwargs):
    if event == "/jax/core/compile/backend_compile_duration":
        COMPILES[0] += 1


def rss_mib() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def bucketed(X: np.ndarray) -> None:
    for name in ("jit_centered", "jit_method1", "jit_panels"):
        METHODS[name].compute(X, None, 0.5)
    sqdist_for("auto", X)
    on_buckets(partial(gram_jit, rbf_kernel, {"gamma": np.float32(0.5)}), X, None)


def per_n(X: np.ndarray) -> None:
    g = np.float32(0.5)
    Xc, _ = shared_shift(X)
    np.asarray(METHODS["jit_centered"].jitted(Xc, None, g))
    np.asarray(METHODS["jit_method1"].jitted(X, None, g))
    np.asarray(pairwise_sqeuclidean_jax(Xc, Xc, method="dot", same=True))
    np.asarray(gram_jit(rbf_kernel, {"gamma": g}, X))


def run(label: str, body, d: int) -> None:
    rng = np.random.default_rng(0)
    body(rng.normal(size=(5, d)).astype("float32"))  # warm-up: imports, first allocations
    start, c0 = rss_mib(), COMPILES[0]
    for n in SIZES:
        body(rng.normal(size=(n, d)).astype("float32"))
    grown, compiles = rss_mib() - start, COMPILES[0] - c0
    print(f"{label:9s} {len(SIZES)} sizes: {compiles} compilations, RSS +{grown:.0f} MiB, "
          f"{grown / max(compiles, 1) * 1024:.0f} KiB per compilation")


if __name__ == "__main__":
    jax.monitoring.register_event_duration_secs_listener(_listen)
    print(f"load average {os.getloadavg()[0]:.1f}; jax {jax.__version__}; "
          f"{len({bucket_size(n) for n in SIZES})} buckets for N = 10..400")
    run("bucketed", bucketed, 2)
    run("per-N", per_n, 3)
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
