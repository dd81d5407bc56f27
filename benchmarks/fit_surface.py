"""How long does the Fit page's surface take? One jitted nested-vmap call against the loop.

    python benchmarks/fit_surface.py            # N = 100, 200, 400; 64 × 64; float32 and float64
    python benchmarks/fit_surface.py --quick    # N = 200 only, float32

For each N: the data the page uses (the 1-D sine set, seed 0, noise sd 0.2), the
surface `core.lessons.fit.model.lml_surface` on the page's 64 × 64 grid
(`core.lessons.fit.compare.surface_axes`), one gamma row at a time as the page
calls it: compiled apart (first call), then timed by `core.bench.timing.time_call`
(a warm-up, 7 repeats, results forced): median, interquartile range, min. Beside it
the plain nested vmap (every gamma at once: 3 repeats) and the Python double loop
(`lml_surface_loop`, one jitted call per cell) on 4 evenly spaced gamma rows (256
cells; the first rows alone would flatter it, LAPACK stops early where K does not
factor), scaled to all 4096. The target: the surface for N = 200 in under a second (a
benchmark, not a test). The load average at start and end is recorded:
on a shared machine it decides much of the result.

Writes benchmarks/results/fit_surface_<UTC timestamp>.md and .json and
benchmarks/results/fit_surface_latest.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import jax.numpy as jnp  # noqa: E402

from core.bench.timing import environment_info, time_call  # noqa: E402
from core.lessons.fit.model import lml_surface, lml_surface_loop  # noqa: E402
from core.lessons.fit.compare import ALL_AT_ONCE_MAX_BYTES, all_at_once_bytes, surface_axes  # noqa: E402
from core.data.regression import load_regression  # noqa: E402
from core.precision import dtype_scope  # noqa: E402
from core.bench.report import format_seconds  # noqa: E402

SIDE, LOOP_ROWS, TARGET_S = 64, 4, 1.0
RESULTS = ROOT / "benchmarks" / "results"


def measure(n: int, dtype: str) -> dict:
    data = load_regression("sine_1d", n, 0.2, 0, dtype)
    with dtype_scope(dtype):
        gammas, noises = surface_axes(SIDE, data.X.dtype)
        X, y, amp = jnp.asarray(data.X), jnp.asarray(data.y), data.X.dtype.type(1.0)
        start = time.perf_counter()
        lml_surface(X, y, gammas, noises, amp).block_until_ready()
        first_s = time.perf_counter() - start
        one = time_call(lml_surface, X, y, gammas, noises, amp, warmup=1, repeats=7, budget_s=None)
        nested = None
        if all_at_once_bytes(n, SIDE, data.X.dtype.itemsize) <= ALL_AT_ONCE_MAX_BYTES:
            nested = time_call(lambda *a: lml_surface(*a, gammas_at_once=SIDE), X, y, gammas, noises, amp,
                               warmup=1, repeats=3, budget_s=None)
        rows = gammas[np.linspace(0, SIDE - 1, LOOP_ROWS).round().astype(int)]
        loop = time_call(lml_surface_loop, X, y, rows, noises, amp, warmup=1, repeats=3, budget_s=None)
    scale = SIDE * SIDE / (LOOP_ROWS * SIDE)
    return {"n": n, "dtype": dtype, "side": SIDE, "first_call_s": first_s, **one.as_dict(True),
            "all_at_once_median_s": nested.median_s if nested else None,
            "all_at_once_spread_s": nested.spread_s if nested else None,
            "loop_median_scaled_s": loop.median_s * scale, "loop_spread_scaled_s": loop.spread_s * scale,
            "loop_repeats": loop.repeats, "speedup": loop.median_s * scale / one.median_s}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="N = 200, float32 only")
    args = parser.parse_args()
    sizes, dtypes = ((200,), ("float32",)) if args.quick else ((100, 200, 400), ("float32", "float64"))
    load_start = os.getloadavg()[0]
    rows = [measure(n, dt) for dt in dtypes for n in sizes]
    load_end = os.getloadavg()[0]
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    lines = [f"# Fit surface, {stamp}", "",
             f"Grid {SIDE} × {SIDE} = {SIDE * SIDE} cells; load average {load_start:.1f} → {load_end:.1f} "
             f"on {os.cpu_count()} CPUs.", "",
             "| N | dtype | one call by gamma rows (the page's): median (IQR) | min | first call (compiles) "
             "| all at once (plain nested vmap): median (IQR) | loop, scaled to all cells: median (IQR) "
             "| loop / by rows | target < 1 s (N = 200, float32) |",
             "|---:|---|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        nested = (f"{format_seconds(r['all_at_once_median_s'], 2)} ({format_seconds(r['all_at_once_spread_s'], 2)})"
                  if r["all_at_once_median_s"] is not None else "not run (over the memory cap)")
        target = ("met" if r["median_s"] < TARGET_S else "**not met**") \
            if (r["n"], r["dtype"]) == (200, "float32") else ""
        lines.append(f"| {r['n']} | {r['dtype']} | {format_seconds(r['median_s'], 2)} ({format_seconds(r['spread_s'], 2)}) | "
                     f"{format_seconds(r['min_s'], 2)} | {format_seconds(r['first_call_s'], 2)} | {nested} "
                     f"| {format_seconds(r['loop_median_scaled_s'], 2)} "
                     f"({format_seconds(r['loop_spread_scaled_s'], 2)}) | {r['speedup']:.2g}× | {target} |")
    text = "\n".join(lines) + "\n"
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"fit_surface_{stamp}.md").write_text(text, encoding="utf-8")
    (RESULTS / "fit_surface_latest.md").write_text(text, encoding="utf-8")
    (RESULTS / f"fit_surface_{stamp}.json").write_text(json.dumps(
        {"environment": environment_info(), "load_average": [load_start, load_end], "rows": rows},
        indent=2), encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
