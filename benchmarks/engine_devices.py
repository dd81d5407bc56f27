"""The block engine at 10⁶ and 10⁷ points on whatever devices JAX sees: a markdown table.

    python benchmarks/engine_devices.py                          # N = 10^6 and 10^7, 30 steps each
    python benchmarks/engine_devices.py --max-steps 0            # every step: the full run
    python benchmarks/engine_devices.py --shapes 2048x32768 4096x16384   # block shapes to compare
    CUDA_VISIBLE_DEVICES=0 python benchmarks/engine_devices.py   # one GPU of several

Each (N, block shape) runs in a fresh process (so its peak memory is its own): pooled
means and row sums of K(X, X), float32, D = `--d` (default 2), rows sharded over all of
`jax.devices()` (CPU here; every GPU of a GPU machine with `jax[cuda12]` installed). With
`--max-steps S` only the first S steps run: the cost per computed entry is measured on
steps 2..S (the first one compiles) and the minutes for the full N are **projected** from
it and the plan's count of computed entries (`BlockPlan.computed_entries`; the symmetric
path computes only the tiles from each block's diagonal on, and the first steps are the
widest ones). The table says which rows are projections. Peak memory: the process's peak
resident set (VmHWM) and, where the device reports it, the device's peak bytes in use.

Data: `core.scale.synthetic.synthetic_points("blobs", ...)` up to 10⁶ points; above, that
many points again with seeds 1, 2, ... (the generator stops at 10⁶), concatenated.
Writes benchmarks/results/engine_devices_<UTC timestamp>.md and
benchmarks/results/engine_devices_latest.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from launch.cpu_devices import split_cpu_into_devices  # noqa: E402

# The app's devices: one per CPU core, asked for before JAX starts (app.py does the
# same). XLA_FLAGS=--xla_force_host_platform_device_count=1 measures one device.
split_cpu_into_devices()

import numpy as np  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"


def _points(n: int, d: int) -> np.ndarray:
    """(n, d) float32 blobs; past the generator's 10⁶, more of them with the next seeds."""
    from core.scale.synthetic import MAX_SCALE_POINTS, synthetic_points
    parts, seed = [], 0
    while n > 0:
        k = min(n, MAX_SCALE_POINTS)
        parts.append(synthetic_points("blobs", max(k, 2), d, seed=seed, dtype="float32")[:k])
        n, seed = n - k, seed + 1
    return np.concatenate(parts) if len(parts) > 1 else parts[0]


def _peak_rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _cpu_s() -> float:
    """User + system CPU seconds of this process, all threads."""
    import resource
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _step_entries(plan, start: int, symmetric: bool) -> int:
    """Entries of K that the step starting at row `start` computes, over all devices."""
    b, t = plan.rows_per_device, plan.tile_cols
    firsts = [(start + r * b) // t if symmetric else 0 for r in range(plan.n_devices)]
    return sum(max(0, plan.n_tiles - f) for f in firsts) * b * t


def run_one(n: int, d: int, rows: int | None, cols: int | None, max_steps: int) -> dict:
    """One engine run in this process (the first `max_steps` steps; 0: all)."""
    import jax
    from core.kernels.functions import median_heuristic_gamma
    from core.scale import BlockRun

    X = _points(n, d)
    gamma = median_heuristic_gamma(X[np.random.default_rng(0).choice(n, min(n, 1000), replace=False)])
    run = BlockRun(X, gamma, dtype="float32", rows_per_device=rows, tile_cols=cols)
    plan = run.plan
    starts = list(range(0, n, plan.block_rows))
    total_steps = len(starts)
    times, cpus = [], []
    t0 = time.perf_counter()
    for i, _ in enumerate(run.steps()):
        times.append(time.perf_counter() - t0)
        cpus.append(_cpu_s())
        if max_steps and i + 1 >= max_steps:
            break
    done = len(times)
    # Step 1 carries the compile: the rate is from the end of step 1 to the end of step `done`.
    timed = sum(_step_entries(plan, s, run.symmetric) for s in starts[1:done])
    seconds = times[-1] - times[0]
    full = plan.computed_entries(run.symmetric)
    s_per_entry = seconds / timed if timed and seconds > 0 else None
    device_peak = None
    stats = jax.devices()[0].memory_stats() if hasattr(jax.devices()[0], "memory_stats") else None
    if stats and "peak_bytes_in_use" in stats:
        device_peak = int(stats["peak_bytes_in_use"])
    return {
        "n": n, "d": d, "devices": f"{len(jax.devices())} × {jax.devices()[0].device_kind}",
        "platform": jax.devices()[0].platform,
        "block": f"{plan.rows_per_device} × {plan.tile_cols}", "n_devices": plan.n_devices,
        "steps_done": done, "steps_total": total_steps, "symmetric": run.symmetric,
        "computed_entries": full, "timed_entries": timed, "timed_seconds": seconds,
        "ns_per_computed_entry": None if s_per_entry is None else s_per_entry * 1e9,
        "cpu_ns_per_computed_entry": (cpus[-1] - cpus[0]) / timed * 1e9 if timed else None,
        # The first step as it took (compile included), the rest at the timed rate.
        "minutes_full": None if s_per_entry is None else
        (times[0] + s_per_entry * (full - _step_entries(plan, 0, run.symmetric))) / 60,
        "first_step_s": times[0], "peak_rss_bytes": _peak_rss_bytes(),
        "device_peak_bytes": device_peak,
    }


def _mib(b: int | None) -> str:
    return "–" if b is None else f"{b / 2**20:,.0f} MiB"


def table(rows: list[dict]) -> str:
    lines = ["| devices | N | block (rows/device × cols) | steps timed | ns / computed entry (wall) "
             "| CPU ns / computed entry | minutes for the full N | peak RSS | peak device memory | load before → after |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        projected = r["steps_done"] < r["steps_total"]
        ns = "–" if r["ns_per_computed_entry"] is None else f"{r['ns_per_computed_entry']:.2g}"
        cpu = "–" if r["cpu_ns_per_computed_entry"] is None else f"{r['cpu_ns_per_computed_entry']:.2g}"
        mins = "–" if r["minutes_full"] is None else f"{r['minutes_full']:.2g}"
        mins += " (projected)" if projected else " (measured)"
        lines.append(
            f"| {r['devices']} | {r['n']:,} | {r['block']} | {r['steps_done'] - 1} of "
            f"{r['steps_total']:,}{' (a sample)' if projected else ''} | {ns} | {cpu} | {mins} | "
            f"{_mib(r['peak_rss_bytes'])} | {_mib(r['device_peak_bytes'])} | "
            f"{r['load_before']:.1f} → {r['load_after']:.1f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--d", type=int, default=2)
    parser.add_argument("--max-steps", type=int, default=30,
                        help="steps to run per size (0: all); the minutes are projected from them")
    parser.add_argument("--shapes", nargs="*", default=[],
                        help="block shapes ROWSxCOLS (rows per device x columns per tile); "
                             "default: the platform's")
    parser.add_argument("--one", nargs=4, type=int, help=argparse.SUPPRESS)  # n rows cols steps
    parser.add_argument("--no-write", action="store_true", help="print the table only")
    args = parser.parse_args()
    if args.one:
        n, rows, cols, steps = args.one
        print(json.dumps(run_one(n, args.d, rows or None, cols or None, steps)))
        return
    shapes = [tuple(int(v) for v in s.lower().split("x")) for s in args.shapes] or [(0, 0)]
    results = []
    for n in args.sizes:
        for rows, cols in shapes:
            load_before = os.getloadavg()[0]
            out = subprocess.run([sys.executable, __file__, "--d", str(args.d), "--one", str(n),
                                  str(rows), str(cols), str(args.max_steps)],
                                 check=True, capture_output=True, text=True, env=os.environ)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            r["load_before"], r["load_after"] = load_before, os.getloadavg()[0]
            results.append(r)
            print(json.dumps(r), flush=True)
    import jax
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    text = (f"# The block engine on {results[0]['devices']} ({stamp})\n\n"
            f"Pooled means and row sums of K(X, X), float32, D = {args.d}, jax {jax.__version__}; "
            f"`python benchmarks/engine_devices.py --max-steps {args.max_steps}`. Rows marked "
            "projected timed a sample of steps (the first, which compiles, excluded) and scale "
            "its wall time per computed entry to the whole plan, so a shared machine's load (the "
            "last column: 1-minute load average) slows them; the CPU time per computed entry "
            "(user + system, all threads) is what the work costs whatever else runs.\n\n" + table(results) + "\n")
    print(text)
    if not args.no_write:
        RESULTS.mkdir(exist_ok=True)
        for name in (f"engine_devices_{stamp}.md", "engine_devices_latest.md"):
            (RESULTS / name).write_text(text)


if __name__ == "__main__":
    main()
