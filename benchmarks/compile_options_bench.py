"""What do `core.compile_options.COMPILER_OPTIONS` change? One program, two compilations.

    python benchmarks/compile_options_bench.py                       # N 1000, D 2/128, both dtypes
    python benchmarks/compile_options_bench.py --n 2000 --d 16 --dtypes float64 --rounds 31

For each point, `jit_centered`'s program (a registry method: the product, then one
fused clip-and-exp pass) is compiled twice for the same arguments: with XLA's
defaults and with the project's options. The two executables take turns, the
order alternating from round to round. Before each timed call the process is settled
(`settle_threads`) and one untimed call is made, as `gram_bench.py` does. The script
checks that both give the same bits, then prints the median [quartiles] in ms.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import jax
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from core.bench.race import standard_normal_data  # noqa: E402
from core.bench.timing import environment_info, settle_allocator, settle_threads  # noqa: E402
from core.compile_options import COMPILER_OPTIONS  # noqa: E402
from core.dense import METHODS  # noqa: E402
from core.kernels.functions import median_heuristic_gamma  # noqa: E402
from core.precision import dtype_scope  # noqa: E402


def compare(n: int, d: int, dtype: str, rounds: int, method: str = "jit_centered") -> dict:
    """{"defaults": seconds per call, "options": ...} over `rounds` alternating rounds."""
    X, _ = standard_normal_data(n, d, seed=0)
    X = X.astype(dtype)
    m = METHODS[method]
    args = m.prepare(X, None, median_heuristic_gamma(X), dtype)
    with dtype_scope(dtype):
        programs = {k: jax.jit(m.fn, compiler_options=o).trace(*args).lower().compile()
                    for k, o in (("defaults", None), ("options", COMPILER_OPTIONS))}
        outs = [np.asarray(p(*args)) for p in programs.values()]
        if not np.array_equal(*outs):
            raise AssertionError(f"{method} N={n} D={d} {dtype}: the options changed the result")
        times = {k: [] for k in programs}
        names = list(programs)
        for r in range(rounds):
            for k in names[r % 2:] + names[:r % 2]:
                settle_threads()
                programs[k](*args).block_until_ready()
                start = time.perf_counter()
                programs[k](*args).block_until_ready()
                times[k].append(time.perf_counter() - start)
    return times


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", default="1000")
    ap.add_argument("--d", default="2,128")
    ap.add_argument("--dtypes", default="float64,float32")
    ap.add_argument("--rounds", type=int, default=31)
    a = ap.parse_args(argv)
    settle_allocator()
    env = environment_info()
    print(f"jax {env['jax']}, {env['cpu_count']} CPUs; options {dict(COMPILER_OPTIONS)}\n")
    print("| N, D, dtype | XLA defaults (ms) | with the options (ms) | ratio of medians |")
    print("|---|---:|---:|---:|")
    for dtype in a.dtypes.split(","):
        for n in map(int, a.n.split(",")):
            for d in map(int, a.d.split(",")):
                t = compare(n, d, dtype, a.rounds)
                cell = {k: "%.3g [%.3g–%.3g]" % tuple(np.percentile(v, [50, 25, 75]) * 1e3)
                        for k, v in t.items()}
                ratio = np.median(t["options"]) / np.median(t["defaults"])
                print(f"| {n}, {d}, {dtype} | {cell['defaults']} | {cell['options']} | {ratio:.2f} |",
                      flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
