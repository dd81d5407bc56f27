"""Where the block engine's time goes: one block's tiles, reduced in different ways, against the floor.

    python benchmarks/block_engine_tiles.py              # with the engine's CPU compiler option
    python benchmarks/block_engine_tiles.py --default    # XLA's default fusions

One block of 512 rows (D = 2, float32) against 60,300 columns in 30 tiles of 2,010 (a
`lax.scan`, as `core.scale.step.block_step`), no masks. Variants: the product of augmented
factors, clip and exp feeding only the row groups (pooled groups of 134 columns), then also
the column sums as a product `weights @ K` (4 weight rows, the second pass's symmetric step)
or as `K.sum(0)`; the tile made as its transpose K(cols, rows), (T, B), as the symmetric
step makes it now, with the row groups only and with the column sums as one product
`Kt @ ones(B, 1)`; and the exponent summed elementwise instead of the product.
Each is timed in turns with the floor of `benchmarks/block_engine.py` (exp and reduce over
an 8192² grid from iota): CPU time (user + system, all threads) per entry, medians of 5
turns of 8 calls, after a warm-up.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from core.kernels.numerics import augmented_factors  # noqa: E402
from core.scale.step import _cpu_fusion_options  # noqa: E402

B, T, POOL, TILES = 512, 2010, 134, 30
HI = jax.lax.Precision.HIGHEST


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _variant(product: bool, columns: str | None):
    """A jittable (rows, cols_t, gamma) -> reductions of every tile."""
    def run(rows, cols_t, gamma):
        weights = jnp.ones((4, B), rows.dtype)
        a = -gamma * jnp.sum(rows * rows, 1)

        def tile(carry, cols):
            if product == "transposed":  # K(cols, rows), (T, B), as the symmetric step
                Ft, R = augmented_factors(cols, rows, gamma)
                Kt = jnp.exp(jnp.minimum(jnp.dot(Ft, R, precision=HI), 0))
                out = {"groups": Kt.reshape(T // POOL, POOL, B).sum(1)}
                if columns == "product":
                    out["columns"] = jnp.dot(Kt, weights[:1].T, precision=HI)
                return carry, out
            if product:
                A, F = augmented_factors(rows, cols, gamma)
                e = jnp.dot(A, F, precision=HI)
            else:
                y = 2 * gamma * cols
                e = (rows[:, :1] * y[None, :, 0] + rows[:, 1:2] * y[None, :, 1] + a[:, None]
                     - gamma * jnp.sum(cols * cols, 1)[None, :])
            K = jnp.exp(jnp.minimum(e, 0))
            out = {"groups": K.reshape(B, T // POOL, POOL).sum(-1)}
            if columns == "product":
                out["columns"] = jnp.dot(weights, K, precision=HI)
            elif columns == "sum":
                out["columns"] = K.sum(0)
            return carry, out
        return jax.lax.scan(tile, 0, cols_t)[1]
    return run


VARIANTS = {
    "product, clip, exp, row groups only": (True, None),
    "+ column sums as a product weights @ K": (True, "product"),
    "transposed tile (T, B), row groups only": ("transposed", None),
    "transposed + column sums as a product Kt @ ones(B, 1)": ("transposed", "product"),
    "+ column sums as K.sum(0)": (True, "sum"),
    "exponent elementwise, row groups only": (False, None),
    "exponent elementwise + column product": (False, "product"),
}


def _floor(scale):
    a = jax.lax.iota(jnp.float32, 8192) * scale
    b = jax.lax.iota(jnp.float32, 8192) * (scale * 0.5)
    return jnp.sum(jnp.exp(-(a[:, None] - b[None, :]) ** 2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--default", action="store_true", help="XLA's default CPU fusions")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    options = None if args.default else _cpu_fusion_options()
    rng = np.random.default_rng(0)
    rows = rng.normal(size=(B, 2)).astype(np.float32)
    cols = rng.normal(size=(TILES, T, 2)).astype(np.float32)
    gamma = np.float32(0.5)
    calls = {k: (lambda f=jax.jit(_variant(*v), compiler_options=options): f(rows, cols, gamma))
             for k, v in VARIANTS.items()}
    floor = jax.jit(_floor)
    calls["floor"] = lambda: floor(np.float32(1e-3))
    entries = {k: B * T * TILES for k in VARIANTS} | {"floor": 8192**2}
    inner = {k: 8 for k in VARIANTS} | {"floor": 32}
    for fn in calls.values():
        jax.block_until_ready(fn())
    load = os.getloadavg()[0]
    cpu = {k: [] for k in calls}
    for _ in range(args.repeats):
        for k, fn in calls.items():
            c0 = _cpu_s()
            for _ in range(inner[k]):
                jax.block_until_ready(fn())
            cpu[k].append((_cpu_s() - c0) / (inner[k] * entries[k]) * 1e9)
    floor_ns = float(np.median(cpu["floor"]))
    print(f"load average {load:.1f} before, {os.getloadavg()[0]:.1f} after; compiler options {options}")
    print("| tile variant | CPU ns / entry (min-max) | x floor |\n|---|---|---|")
    for k, v in cpu.items():
        print(f"| {k} | {np.median(v):.3f} ({min(v):.3f}-{max(v):.3f}) | {np.median(v) / floor_ns:.2f} |")


if __name__ == "__main__":
    main()
