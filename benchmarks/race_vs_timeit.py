"""Does the race report the time a user would measure? The race against `timeit`.

    python benchmarks/race_vs_timeit.py                       # the app's defaults
    python benchmarks/race_vs_timeit.py --n 1000 --d 16 --rounds 7 --write

For each method, in the same process and on the same data (seeded standard normal
X (N, D), gamma = the median heuristic, the page's sizes by default):

* the race's time: `core.bench.race.race` for that method alone, its reported
  median (`RaceRow.timing.median_s`), exactly what the Batching race page shows;
* an independent time: the standard library's `timeit` on the same computation
  the race times (`GramMethod.prepare(...)`, then for a compiled method a fresh
  `jax.jit(method.fn)` at the exact N where the race calls its ahead-of-time
  compiled executable, otherwise `GramMethod.runner`; "auto" resolved to its pick as
  the race does), the result forced with `jax.block_until_ready`, one call per
  sample as the race makes them (or, with `--sustained`, `Timer.autorange`'s number
  of calls), the median of `--samples` samples, per call. `--as-app` times the
  registry's `runner` instead, which pads N to a size bucket and slices the result
  back (`core.dense.buckets`): the Gram explorer's call, not the race's.

The two take turns (race, timeit; then timeit, race in the next round), so a busy
spell of the machine hits both alike; each round gives a ratio race / timeit, and
the table gives the median ratio over the rounds with its range (min to max), and
the ratio of the two minimums (the least-disturbed call of each, `timeit`'s own
advice on a busy machine). The target is a ratio within 0.75 to 1.25 (±25%). `--write` appends the table to
benchmarks/results/race_vs_timeit_<UTC>.md.
"""

from __future__ import annotations

import argparse
import datetime
import statistics
import sys
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import jax  # noqa: E402
import numpy as np  # noqa: E402

from core.bench.race import race, standard_normal_data  # noqa: E402
from core.compile_options import COMPILER_OPTIONS  # noqa: E402
from core.bench.timing import environment_info, settle_allocator  # noqa: E402
from core.bench.report import format_seconds  # noqa: E402
from core.dense import METHODS, choose_auto  # noqa: E402
from core.kernels.functions import median_heuristic_gamma  # noqa: E402
from core.precision import dtype_scope  # noqa: E402

DEFAULT_METHODS = ("map_stack", "vmap_nojit", "jit_method1", "jit_expansion", "numpy_expansion",
                   "sklearn", "auto")
TARGET = 0.25  # |ratio − 1| at most this


def timeit_times(method_name: str, X, gamma: float, dtype: str, samples: int,
                 sustained: bool = False, as_app: bool = False) -> tuple[float, float]:
    """(median, min) seconds per call of the race's call for `method_name`, by `timeit`.

    The same computation the race times, through the ordinary front door: "auto"
    resolves to its pick (`choose_auto`), as the race does; a compiled method is called
    through a fresh `jax.jit(method.fn)` (the race's compiler options) at the exact N (the race calls the executable
    it compiled ahead of time for that N). With `as_app`, the registry's `runner`
    instead: what the Gram explorer calls, which pads N to a size bucket
    (`core.dense.buckets`) and slices the result back.
    """
    method = METHODS[method_name]
    if method_name == "auto":
        n, d = X.shape
        method = METHODS[choose_auto(n, n, d, np.dtype(dtype))]
    with dtype_scope(dtype):
        args = method.prepare(X, None, gamma, dtype)
        runner = (method.runner if as_app or not method.compiled
                  else jax.jit(method.fn, compiler_options=COMPILER_OPTIONS))
        call = lambda: jax.block_until_ready(runner(*args))  # noqa: E731
        call()  # compile (jitted methods) and warm caches, as the race's warm-up does
        timer = timeit.Timer(call)
        # number=1: one call per sample, as the race times them (each call alone, its
        # result forced). On a machine shared with other work, a long burst of calls
        # (timeit's autorange: 0.2 s per sample) is shared with the other processes while
        # a single short call often fits in one scheduler slice (docs/BENCHMARKS.md,
        # "The race against timeit").
        number = 1 if not sustained else timer.autorange()[0]
        per_call = [t / number for t in timer.repeat(repeat=samples, number=number)]
        return statistics.median(per_call), min(per_call)


def race_times(method_name: str, X, gamma: float, dtype: str, repeats: int,
               budget: float) -> tuple[float, float]:
    """(median, min) seconds per call as the race reports them."""
    (row,) = race(X, None, gamma, [method_name], dtype, repeats=repeats, budget_s=budget,
                  reference=False)
    if row.status != "ok":
        raise SystemExit(f"{method_name}: {row.status}: {row.reason}")
    return row.timing.median_s, row.timing.min_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=400)
    parser.add_argument("--d", type=int, default=2)
    parser.add_argument("--dtype", default="float32", choices=("float32", "float64"))
    parser.add_argument("--methods", nargs="+", default=list(DEFAULT_METHODS))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=7, help="the race's repeats per method")
    parser.add_argument("--budget", type=float, default=1.0, help="the race's budget per method")
    parser.add_argument("--samples", type=int, default=7, help="timeit samples per round")
    parser.add_argument("--sustained", action="store_true",
                        help="timeit with autorange (>= 0.2 s of calls per sample) instead of "
                             "one call per sample")
    parser.add_argument("--as-app", action="store_true",
                        help="timeit calls the registry's runner (N padded to a size bucket, "
                             "as the Gram explorer runs it) instead of the race's exact-N call")
    parser.add_argument("--write", action="store_true", help="save the table under benchmarks/results/")
    args = parser.parse_args()

    settle_allocator()  # as the race's harness does before its first timing, for timeit too
    X, _ = standard_normal_data(args.n, args.d, seed=0)
    gamma = median_heuristic_gamma(X)
    # per method, per round: ((race median, race min), (timeit median, timeit min))
    results: dict[str, list[tuple[tuple[float, float], tuple[float, float]]]] = {
        m: [] for m in args.methods}
    for r in range(args.rounds):
        for name in args.methods:
            order = ("race", "timeit") if r % 2 == 0 else ("timeit", "race")
            got = {}
            for which in order:
                got[which] = (race_times(name, X, gamma, args.dtype, args.repeats, args.budget)
                              if which == "race" else
                              timeit_times(name, X, gamma, args.dtype, args.samples,
                                           args.sustained, args.as_app))
            results[name].append((got["race"], got["timeit"]))
            print(f"round {r + 1}/{args.rounds} {name:>16}: race {format_seconds(got['race'][0], 2)}, "
                  f"timeit {format_seconds(got['timeit'][0], 2)}, "
                  f"ratio {got['race'][0] / got['timeit'][0]:.2f} (of the minimums "
                  f"{got['race'][1] / got['timeit'][1]:.2f})", flush=True)

    env = environment_info()
    lines = [
        f"Race vs timeit ({'autorange' if args.sustained else 'one call'} per timeit sample"
        f"{'; timeit calls the bucketed runner' if args.as_app else ''}), "
        f"N = {args.n}, D = {args.d}, {args.dtype}, {args.rounds} rounds "
        f"({env['timestamp_utc']}, jax {env['jax']}, {env['cpu_count']} CPUs, "
        f"{env['default_backend']})",
        "",
        "| method | race median | timeit median | ratio of medians, race / timeit (median, min–max over rounds) | within ±25% | ratio of minimums (median over rounds) |",
        "|---|---|---|---|---|---|",
    ]
    for name, pairs in results.items():
        ratios = [a[0] / b[0] for a, b in pairs]
        mid = statistics.median(ratios)
        of_min = statistics.median(a[1] / b[1] for a, b in pairs)
        lines.append(
            f"| {METHODS[name].label} | {format_seconds(statistics.median(a[0] for a, _ in pairs), 2)} "
            f"| {format_seconds(statistics.median(b[0] for _, b in pairs), 2)} "
            f"| {mid:.2f} ({min(ratios):.2f}–{max(ratios):.2f}) "
            f"| {'yes' if abs(mid - 1) <= TARGET else 'NO'} | {of_min:.2f} |")
    text = "\n".join(lines)
    print("\n" + text)
    if args.write:
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        out = Path(__file__).resolve().parent / "results" / f"race_vs_timeit_{stamp}.md"
        out.write_text(text + "\n")
        print(f"\nwritten: {out}")


if __name__ == "__main__":
    main()
