"""Do the pages' timed lessons hold still? Each page's comparison, run again and again,
on a quiet machine and while another process keeps one core busy.

Every comparison here is the one its page runs, at the page's default settings, through
the same core function (timed round by round, `core.bench.interleave`): Gradients'
loop against vmap (compiled and eager), vmap anatomy's Python loop against vmap,
"vmap, further"'s cond (costly branch run on every row even when no row takes it), the
Fit surface's double loop against one call, and the Batching race's map + stack against
the compiled methods. A run *states* a lesson when the ratio's range lies above 1 (the
page names the winner), says *within noise* when the range holds 1, and states the
*opposite* when the range lies below 1.

Passes when, quiet, every lesson is stated in every run with every ratio within ±25 %
of the runs' median, and, busy, no run states the opposite.

    python benchmarks/steady_lessons.py              # 10 quiet runs, then 10 busy ones
    python benchmarks/steady_lessons.py --runs 3 --mode busy --out /tmp/steady.json
    python benchmarks/steady_lessons.py --only batching_race

The Scale page is not here: it shows one run of one engine, no comparison.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from launch.cpu_devices import split_cpu_into_devices  # noqa: E402

split_cpu_into_devices()  # as the app does, before JAX starts

import numpy as np  # noqa: E402

from core.bench.race import race  # noqa: E402
from core.bench.report import ratio_interval  # noqa: E402
from core.bench.timing import environment_info  # noqa: E402
from core.data import load_dataset  # noqa: E402
from core.data.regression import load_regression  # noqa: E402
from core.kernels.functions import median_heuristic_gamma  # noqa: E402
from core.lessons.anatomy import compare_predict_forms  # noqa: E402
from core.lessons.fit.compare import time_surface  # noqa: E402
from core.lessons.further import control  # noqa: E402
from core.lessons.gradients import compare_per_sample_grads, regression_targets  # noqa: E402
from core.lessons.predict import init_params  # noqa: E402
from core.precision import dtype_scope  # noqa: E402

# The pages' defaults: the sidebar's data (blobs, N = 400, noise 0.1, seed 0, float32).
DATA = dict(dataset="blobs", n=400, seed=0, noise=0.1, dtype="float32")
RACE_METHODS = ("map_stack", "jit_method1", "vmap_nojit", "jit_centered")  # of the page's default
TOLERANCE = 0.25  # quiet: every ratio within ±25 % of the runs' median


def _data():
    return load_dataset(DATA["dataset"], n=DATA["n"], seed=DATA["seed"], noise=DATA["noise"],
                        dtype=DATA["dtype"])


def gradients(X, y):
    """Gradients' two headlines (loop_rows 100, budget 0.5 s, as the page)."""
    targets, _ = regression_targets(X, y, DATA["seed"])
    with dtype_scope(X.dtype):
        r = compare_per_sample_grads(init_params(X.shape[1], DATA["seed"], dtype=X.dtype.type),
                                     X, targets, loop_rows=100, budget_s=0.5)
    return {"Gradients: jit(vmap(grad)) beats a loop of jit(grad)": r.speedup_interval,
            "Gradients: vmap(grad) beats a loop of grad (eager)": r.speedup_eager_interval}


def anatomy(X, y):
    """vmap anatomy: the Python loop over the in_axes form (budget 0.5 s, as the page)."""
    with dtype_scope(X.dtype):
        forms = compare_predict_forms(init_params(X.shape[1], DATA["seed"], dtype=X.dtype.type),
                                      X, budget_s=0.5)
    by = {f.label: f for f in forms}
    return {"vmap anatomy: vmap beats the Python loop of predict": ratio_interval(
        by["Python loop"].eager, by["vmap(predict, in_axes=(None, 0))"].eager)}


def further(X, y):
    """vmap, further › Control flow: with no row taking the costly branch, the batched cond
    still costs more than the cheap branch alone (select_n runs both)."""
    gamma = median_heuristic_gamma(X)
    with dtype_scope(X.dtype):
        rows = control.cond_timings(X, gamma, (0.0, 0.25, 0.5, 0.75, 1.0))
    by = {r["label"]: r["timing"] for r in rows}
    return {"vmap, further: cond runs the costly branch with 0 % of rows taking it": ratio_interval(
        by["vmap(cond), 0% costly"], by["cheap branch alone, all rows"])}


def fit(X, y):
    """Fit: the double loop (scaled to every cell) over one call by rows (the page's defaults:
    sine_1d, N = 100, a 64 × 64 surface, float64)."""
    d = load_regression("sine_1d", 100, 0.1, 0, "float64")
    with dtype_scope("float64"):
        t = time_surface(d.X, d.y, 64, 1.0)
    return {"Fit: one call by rows beats the double loop": t.speedup_interval}


def batching_race(X, y):
    """Batching race: map + stack over the fastest compiled method (5 repeats, 1 s each)."""
    rows = race(X, None, median_heuristic_gamma(X), RACE_METHODS, DATA["dtype"], repeats=5,
                budget_s=1.0)
    by = {r.method: r for r in rows}
    fastest = min((by[m] for m in RACE_METHODS[1:]), key=lambda r: r.timing.median_s)
    return {"Batching race: compiled methods beat map + stack": ratio_interval(
        by["map_stack"].timing, fastest.timing)}


COMPARISONS = (gradients, anatomy, further, fit, batching_race)


def verdict(low: float, high: float) -> str:
    return "stated" if low > 1 else "opposite" if high < 1 else "within noise"


def run_mode(mode: str, runs: int, comparisons=COMPARISONS) -> list[dict]:
    """`runs` rounds of each comparison; in "busy" mode another process spins on one core."""
    X, y = _data()
    spinner = None
    if mode == "busy":
        spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    records = []
    try:
        for fn in comparisons:  # compile everything once, outside the runs
            fn(X, y)
        for i in range(runs):
            for fn in comparisons:
                start = time.perf_counter()
                for lesson, (ratio, low, high) in fn(X, y).items():
                    records.append(dict(mode=mode, run=i + 1, lesson=lesson, ratio=ratio, low=low,
                                        high=high, verdict=verdict(low, high),
                                        load1=os.getloadavg()[0],
                                        seconds=time.perf_counter() - start))
                print(f"{mode} run {i + 1}/{runs}: {fn.__name__} done", file=sys.stderr, flush=True)
    finally:
        if spinner is not None:
            spinner.kill()
    return records


def summary(records: list[dict]) -> tuple[str, bool]:
    """A Markdown table, one row per lesson and mode, and whether the criteria hold."""
    lines = ["| lesson | mode | runs stated / within noise / opposite | median ratio | "
             "ratios (min–max) | max deviation from median |",
             "|---|---|---|---:|---|---:|"]
    ok = True
    for lesson in dict.fromkeys(r["lesson"] for r in records):
        for mode in ("quiet", "busy"):
            mine = [r for r in records if r["lesson"] == lesson and r["mode"] == mode]
            if not mine:
                continue
            ratios = np.array([r["ratio"] for r in mine])
            med = float(np.median(ratios))
            dev = float(np.max(np.abs(ratios / med - 1)))
            counts = [sum(r["verdict"] == v for r in mine) for v in ("stated", "within noise", "opposite")]
            if mode == "quiet":
                ok &= counts[0] == len(mine) and dev <= TOLERANCE
            else:
                ok &= counts[2] == 0
            lines.append(f"| {lesson} | {mode} | {counts[0]} / {counts[1]} / {counts[2]} | "
                         f"{med:.3g}× | {ratios.min():.3g}–{ratios.max():.3g}× | {dev:.0%} |")
    return "\n".join(lines), ok


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--mode", choices=("quiet", "busy", "both"), default="both")
    parser.add_argument("--out", type=Path, help="write every run's record as JSON here")
    parser.add_argument("--only", nargs="+", choices=[fn.__name__ for fn in COMPARISONS],
                        help="run these comparisons only (default: all)")
    args = parser.parse_args(argv)
    comparisons = [fn for fn in COMPARISONS if not args.only or fn.__name__ in args.only]
    records = []
    for mode in (("quiet", "busy") if args.mode == "both" else (args.mode,)):
        records += run_mode(mode, args.runs, comparisons)
    table, ok = summary(records)
    env = environment_info()
    with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
        flags = next((line for line in f if line.startswith("flags")), "")
    env["avx512"] = "avx512f" in flags.split()
    print(f"{env['timestamp_utc']} · {env['cpu_count']} CPUs · AVX-512: {env['avx512']} · "
          f"load average before: {os.getloadavg()[0]:.1f}\n")
    print(table)
    print(f"\nCriteria {'hold' if ok else 'DO NOT hold'}: quiet, every lesson stated in every run "
          f"within ±{TOLERANCE:.0%}; busy, never the opposite.")
    if args.out:
        args.out.write_text(json.dumps(dict(env=env, records=records), indent=1))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
