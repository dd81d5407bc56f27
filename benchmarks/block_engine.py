"""Benchmark of the block engine: cost per entry against the dense method, and peak memory.

    python benchmarks/block_engine.py                  # N = 8000 and 32000, RSS at 100k
    python benchmarks/block_engine.py --sizes 8000 --rss-n 1000000 --rss-blocks 40
    python benchmarks/block_engine.py --floor-n 60000 --floor-d 2   # engine against the floor only
    python benchmarks/block_engine.py --hlo      # which compiled ops make and read each tile

`--floor-n` times the engine (pooled means and row sums of K(X, X), float32, D =
`--floor-d`) and, in the same run, taking turns with it, the floor: a jitted XLA program
that only computes sum(exp(-(a_i - b_j)^2)) over an 8192 x 8192 grid made from iota. Both
are reported in ns per entry of K that the engine actually computes (its symmetric path
computes only the tiles on and above the diagonal; `computed_entries` counts them) and
per entry of K, with the minutes that rate gives at N = 10^6 (its cost per computed entry
times the entries the plan at 10^6 computes). The line starting "RATIO" is the result:
engine / floor in CPU time per computed entry (target <= 1.5).

Per-entry cost = median wall time / (N · N), for the block engine (pooled means and
row sums, the Scale page's work) at each size and for dense registry methods at
N = 8000 (`--dense`, default the jitted centered method "jit_centered"; the first
one is the reference of the ratios), in the same process, after a warm-up call
(compilation), every result forced to the host. At N = 8000 the engine and the dense
methods take turns (A, B, A, B, ...), so a busy machine slows them alike; the CPU
time per entry (user + system, all threads) is printed too: it measures the work
done, whatever else runs on the machine. Peak memory is the peak resident
set size of a fresh process (VmHWM) that runs the engine at
`--rss-n`; `--rss-blocks` stops it after that many steps (memory does not grow
with steps: every accumulator is allocated up front).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from launch.cpu_devices import split_cpu_into_devices  # noqa: E402

# The app's devices: one per CPU core, asked for before JAX starts (app.py does the
# same). XLA_FLAGS=--xla_force_host_platform_device_count=1 measures one device.
split_cpu_into_devices()

import numpy as np  # noqa: E402

from core.scale import BlockRun, run_blocks  # noqa: E402
from core.kernels.functions import median_heuristic_gamma  # noqa: E402
from core.dense.memory import format_bytes  # noqa: E402
from core.dense.methods import METHODS  # noqa: E402
from core.scale.synthetic import synthetic_points  # noqa: E402
from core.bench.timing import block, environment_info  # noqa: E402
from core.bench.report import format_seconds  # noqa: E402

DENSE_N = 8000
D = 4


def _data(n: int) -> tuple[np.ndarray, float]:
    X = synthetic_points("blobs", n, D, seed=0)
    return X, median_heuristic_gamma(X)


def _call(n: int, dense: str | None) -> tuple[str, Callable[[], object]]:
    """(label, call) computing K at size n: registry method `dense`, or the block engine."""
    X, gamma = _data(n)
    if dense:
        method = METHODS[dense]
        args = method.prepare(X, None, gamma)
        return f"dense {dense}", lambda: np.asarray(method.runner(*args))  # to the host, as the engine
    return "block engine", lambda: run_blocks(X, gamma)


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def per_entry(n: int, methods: list[str | None], repeats: int) -> list[dict]:
    """Median wall and CPU seconds per entry of K at size n for each method, taking turns."""
    calls = [_call(n, m) for m in methods]
    for _, fn in calls:
        block(fn())  # warm-up: compilation, caches
    walls: dict[str, list[float]] = {label: [] for label, _ in calls}
    cpus: dict[str, list[float]] = {label: [] for label, _ in calls}
    for _ in range(repeats):
        for label, fn in calls:
            cpu, start = _cpu_s(), time.perf_counter()
            block(fn())
            walls[label].append(time.perf_counter() - start)
            cpus[label].append(_cpu_s() - cpu)
    return [{"n": n, "method": label, "median_s": float(np.median(walls[label])),
             "min_s": min(walls[label]), "repeats": repeats,
             "ns_per_entry": float(np.median(walls[label])) / n**2 * 1e9,
             "cpu_ns_per_entry": float(np.median(cpus[label])) / n**2 * 1e9}
            for label, _ in calls]


FLOOR_SIDE = 8192


def _floor_call() -> Callable[[], object]:
    """sum(exp(-(a_i - b_j)^2)) over a FLOOR_SIDE² grid from iota: exp and reduce, nothing else."""
    import jax
    import jax.numpy as jnp

    @jax.jit
    def floor(scale):
        a = jax.lax.iota(jnp.float32, FLOOR_SIDE) * scale
        b = jax.lax.iota(jnp.float32, FLOOR_SIDE) * (scale * 0.5)
        return jnp.sum(jnp.exp(-(a[:, None] - b[None, :]) ** 2))
    return lambda: floor(np.float32(1e-3))


def engine_vs_floor(n: int, d: int, repeats: int) -> dict:
    """Engine (float32, K(X, X), pooled + row sums) and floor, taking turns, in ns per entry."""
    X = synthetic_points("blobs", n, d, seed=0).astype(np.float32)
    gamma = median_heuristic_gamma(X)
    runs = []
    calls = {"engine": lambda: runs.append(run_blocks(X, gamma, dtype="float32")) or runs[-1],
             "floor": _floor_call()}
    for fn in calls.values():
        block(fn())
    walls = {k: [] for k in calls}
    cpus = {k: [] for k in calls}
    for _ in range(repeats):
        for k, fn in calls.items():
            cpu, start = _cpu_s(), time.perf_counter()
            block(fn())
            walls[k].append(time.perf_counter() - start)
            cpus[k].append(_cpu_s() - cpu)
    computed = runs[-1].plan.computed_entries(runs[-1].symmetric)
    out = {"n": n, "d": d, "repeats": repeats, "computed_entries": computed,
           "load_average": os.getloadavg()}
    for k, entries in (("engine", computed), ("floor", FLOOR_SIDE**2)):
        w = np.array(walls[k])
        out[k] = {"median_s": float(np.median(w)), "min_s": float(w.min()), "max_s": float(w.max()),
                  "ns_per_computed_entry": float(np.median(w)) / entries * 1e9,
                  "cpu_ns_per_computed_entry": float(np.median(cpus[k])) / entries * 1e9}
    out["engine"]["ns_per_entry_of_K"] = out["engine"]["median_s"] / n**2 * 1e9
    out["engine_over_floor"] = out["engine"]["ns_per_computed_entry"] / out["floor"]["ns_per_computed_entry"]
    out["cpu_engine_over_floor"] = (out["engine"]["cpu_ns_per_computed_entry"]
                                    / out["floor"]["cpu_ns_per_computed_entry"])
    # At 10^6 the symmetric path computes a slightly smaller share of K (thinner diagonal
    # band): scale the cost per computed entry by the entries that plan computes.
    from core.scale import plan_blocks
    big = plan_blocks(10**6, 10**6).computed_entries(runs[-1].symmetric)
    out["computed_entries_at_1e6"] = big
    out["minutes_at_1e6"] = out["engine"]["ns_per_computed_entry"] * 1e-9 * big / 60
    out["cpu_minutes_at_1e6"] = out["engine"]["cpu_ns_per_computed_entry"] * 1e-9 * big / 60
    return out


def print_tile_ops(n: int, d: int) -> None:
    """The ops of the step's optimized HLO that make or read a whole (rows, tile) array.

    Fusions named `ynn_fusion` run in YNNPACK; a `kLoop` fusion on a whole tile is XLA's
    own loop (with an exp in it, the slow one). Each branch of the step's `conditional`
    is listed: the tiles right of the block (no masks) and the diagonal ones.
    """
    import re
    X = synthetic_points("blobs", n, d, seed=0).astype(np.float32)
    run = BlockRun(X, median_heuristic_gamma(X), dtype="float32")
    text = run._step.lower(np.int32(0), *run._args).compile().as_text()
    # The symmetric path makes each tile as its transpose, (tile_cols, rows).
    wholes = (f"[{run.plan.rows_per_device},{run.plan.tile_cols}]",
              f"[{run.plan.tile_cols},{run.plan.rows_per_device}]")
    print(f"{run.plan}; ops that make a whole {' or '.join(wholes)} tile, and (->) those that read one:")
    lines = [re.sub(r", metadata=.*", "", line.strip()) for line in text.splitlines()]
    makers = []
    for line in lines:
        if any(w in line.split("=", 1)[-1].split("(")[0] for w in wholes) and \
                re.search(r"fusion\(|dot\(|scatter\(", line):
            makers.append(line.split(" =")[0].replace("ROOT ", ""))
            print("  " + line[:150])
    for line in lines:
        if any(m + "," in line or m + ")" in line for m in makers) and " = " in line \
                and line.split(" =")[0].replace("ROOT ", "") not in makers:
            print("  -> " + line[:150])


def _peak_rss_bytes() -> int:
    """This process's peak resident set size so far."""
    # VmHWM is this program's own peak; ru_maxrss can still count the parent's
    # pages from before exec (a Linux quirk), so it is only the fallback.
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def peak_rss(n: int, max_blocks: int | None) -> dict:
    """Run the engine at size n in this process; report its peak resident memory."""
    X, gamma = _data(n)
    before = _peak_rss_bytes()
    run = BlockRun(X, gamma)
    for i, _ in enumerate(run.steps()):
        if max_blocks is not None and i + 1 >= max_blocks:
            break
    peak = _peak_rss_bytes()
    steady = run.result().steady_seconds_per_entry
    return {"n": n, "rows_done": run.done_rows, "peak_rss_bytes": peak,
            "steady_ns_per_entry": None if steady is None else steady * 1e9,
            "peak_rss": format_bytes(peak), "rss_before_run": format_bytes(before),
            "plan": str(run.plan), "device_bytes_estimate": format_bytes(
                run.plan.device_bytes(D, X.dtype.itemsize)),
            "seconds": run.result().elapsed_s}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[8000, 32000])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--dense", nargs="+", default=["jit_centered"],
                        help="registry methods to time at N = 8000; the first is the reference")
    parser.add_argument("--rss-n", type=int, default=100_000)
    parser.add_argument("--rss-blocks", type=int, default=None)
    parser.add_argument("--floor-n", type=int, default=None)
    parser.add_argument("--floor-d", type=int, default=2)
    parser.add_argument("--rss-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--hlo", action="store_true",
                        help="print the step's compiled ops on whole tiles (N = --floor-n) and exit")
    args = parser.parse_args()
    if args.hlo:
        print_tile_ops(args.floor_n or 60_000, args.floor_d)
        return
    if args.rss_only:
        print(json.dumps(peak_rss(args.rss_n, args.rss_blocks)))
        return

    env = environment_info()
    if args.floor_n:
        load_before = os.getloadavg()[0]
        r = engine_vs_floor(args.floor_n, args.floor_d, args.repeats)
        r["load_before"] = load_before
        e, f = r["engine"], r["floor"]
        print(f"load average {load_before:.2f} before, {r['load_average'][0]:.2f} after the turns; N={r['n']:,}, D={r['d']}, float32, "
              f"{r['repeats']} turns each (min-max in brackets)")
        print(f"engine: {format_seconds(e['median_s'])} [{e['min_s']:.2f}-{e['max_s']:.2f} s], "
              f"{e['ns_per_computed_entry']:.3f} ns per computed entry ({r['computed_entries']:,}), "
              f"{e['ns_per_entry_of_K']:.3f} ns per entry of K")
        print(f"floor:  {format_seconds(f['median_s'])} [{f['min_s']:.3f}-{f['max_s']:.3f} s], "
              f"{f['ns_per_computed_entry']:.3f} ns per entry; engine / floor = {r['engine_over_floor']:.2f}")
        print(f"CPU time (all threads) per computed entry: engine {e['cpu_ns_per_computed_entry']:.3f} ns, "
              f"floor {f['cpu_ns_per_computed_entry']:.3f} ns; engine / floor = {r['cpu_engine_over_floor']:.2f}")
        print(f"RATIO engine / floor, CPU time per computed entry: {r['cpu_engine_over_floor']:.2f} "
              f"(wall: {r['engine_over_floor']:.2f}; target <= 1.5). At N = 10^6 "
              f"({r['computed_entries_at_1e6']:.3g} computed entries): {r['minutes_at_1e6']:.1f} min "
              f"of wall time at this run's rate, {r['cpu_minutes_at_1e6']:.1f} min of CPU time "
              f"({os.cpu_count()} cores). Load average after: {os.getloadavg()[0]:.2f}")
        print(json.dumps(r))
        return
    print(f"# {env['platform']}, {env['cpu_count']} CPUs, jax {env['jax']}, devices "
          f"{[d['device_kind'] for d in env['jax_devices']]}")
    rows = per_entry(DENSE_N, [*args.dense, None], args.repeats)
    dense = rows[0]
    for n in args.sizes:
        if n != DENSE_N:
            rows += per_entry(n, [None], max(1, args.repeats // 2) if n > DENSE_N else args.repeats)
    for r in rows:
        r["ratio_to_dense_8000"] = r["ns_per_entry"] / dense["ns_per_entry"]
        r["cpu_ratio_to_dense_8000"] = r["cpu_ns_per_entry"] / dense["cpu_ns_per_entry"]
        print(f"{r['method']:>22} N={r['n']:>9,}: {format_seconds(r['median_s'])} = "
              f"{r['ns_per_entry']:.3f} ns/entry ({r['ratio_to_dense_8000']:.2f} × "
              f"{dense['method']} at {DENSE_N:,}); CPU {r['cpu_ns_per_entry']:.3f} ns/entry "
              f"({r['cpu_ratio_to_dense_8000']:.2f} ×)")
    # A fresh process, so the dense run's 256 MB does not count in the peak.
    cmd = [sys.executable, __file__, "--rss-only", "--rss-n", str(args.rss_n)]
    if args.rss_blocks:
        cmd += ["--rss-blocks", str(args.rss_blocks)]
    rss = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True,
                                    env=os.environ).stdout.strip().splitlines()[-1])
    print(f"peak RSS, blocks N={args.rss_n:,} ({rss['rows_done']:,} rows done): {rss['peak_rss']} "
          f"(before the run: {rss['rss_before_run']}; device estimate {rss['device_bytes_estimate']}); "
          f"{rss['steady_ns_per_entry']:.3f} ns/entry after the first step")
    print(json.dumps({"environment": env, "timings": rows, "memory": rss}, indent=1))


if __name__ == "__main__":
    main()
