"""Does the state one method leaves behind change the next method's time?

    python benchmarks/gram_state_probe.py [--n 1000] [--d 2] [--dtype float64] [--reps 30]

gram_bench.py times each method once per round, right after the method before it
in a rotated order. Here one target call (the compiled "auto" pick, and the peers)
is timed right after each possible predecessor, the pairs interleaved at random,
so that the machine's other load hits every pair alike. Predecessors: the same
call (back to back), an idle pause, each peer, NumPy's and JAX's floors, and a
fresh ahead-of-time compile (what `time_jitted` does every round). The process's
CPU time during the target call says how many cores were busy for it: a ratio
(CPU time / wall time) well above what the target uses alone means other threads
of the process (BLAS workers, XLA's pool) were running at the same time.

Prints one table: target, predecessor, median, min, IQR, median CPU/wall, and
"fast": the share of calls within 1.4x of the target's fastest call anywhere.
"sklearn, settled" is scikit-learn followed by `settle_threads` (what
gram_bench.py does before each method).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

import jax
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from core.bench.race import standard_normal_data  # noqa: E402
from core.bench.timing import block, settle_allocator, settle_threads  # noqa: E402
from core.dense import METHODS, choose_auto  # noqa: E402
from core.kernels.functions import median_heuristic_gamma  # noqa: E402
from core.precision import dtype_scope  # noqa: E402


def compiled_call(name, args):
    method = METHODS[name]
    return method.jitted.trace(*args).lower().compile()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=1000)
    p.add_argument("--d", type=int, default=2)
    p.add_argument("--dtype", default="float64")
    p.add_argument("--reps", type=int, default=30)
    p.add_argument("--pause", type=float, default=0.0,
                   help="seconds of sleep between predecessor and target")
    p.add_argument("--blas-threads", type=int, default=None,
                   help="limit BLAS to this many threads (threadpoolctl) for the whole run")
    p.add_argument("--targets", default="pick,scipy_cdist,sklearn")
    p.add_argument("--preds", default=None, help="predecessors separated by ';' (default: all)")
    args = p.parse_args(argv)
    if args.blas_threads:
        from threadpoolctl import threadpool_limits
        threadpool_limits(args.blas_threads, user_api="blas")
    settle_allocator()
    X, _ = standard_normal_data(args.n, args.d, seed=0)
    X = X.astype(args.dtype)
    gamma = median_heuristic_gamma(X)
    pick = choose_auto(args.n, args.n, args.d, args.dtype)
    with dtype_scope(args.dtype):
        calls = {}
        for name in ("sklearn", "scipy_cdist", "numpy_tiled", "jit_panels", "numpy_expansion", pick):
            prep = METHODS[name].prepare(X, None, gamma, args.dtype)
            if METHODS[name].compiled:
                exe = compiled_call(name, prep)
                calls[name] = (lambda exe=exe, prep=prep: exe(*prep))
            else:
                calls[name] = (lambda m=METHODS[name], prep=prep: m.runner(*prep))
        pick_args = METHODS[pick].prepare(X, None, gamma, args.dtype)
        a = np.linspace(-1, 0, args.n, dtype=args.dtype)
        from benchmarks.gram_bench import floor_jax, floor_numpy
        calls["floor_numpy"] = lambda: floor_numpy(args.n, args.n, args.dtype)
        calls["floor_jax"] = lambda: floor_jax(a, a)
        preds = {name: fn for name, fn in calls.items()}
        for pause in (0.005, 0.02, 0.2):
            preds[f"idle {pause * 1e3:g} ms"] = lambda pause=pause: time.sleep(pause)
        preds["recompile"] = lambda: compiled_call(pick, pick_args)
        waits = []
        preds["sklearn, settled"] = lambda: (block(calls["sklearn"]()), waits.append(settle_threads()))
        preds["sklearn, settled, self"] = None  # the target itself once more, after settling
        targets = [pick if t == "pick" else t for t in args.targets.split(",")]
        if args.preds:
            preds = {q: preds[pick if q == "pick" else q] for q in args.preds.split(";")}
        for fn in calls.values():  # warm every call
            block(fn()), block(fn())
        pairs = [(t, q) for t in targets for q in preds] * args.reps
        random.Random(0).shuffle(pairs)
        out: dict[tuple[str, str], list[tuple[float, float]]] = {}
        for t, q in pairs:
            if preds[q] is None:
                block(calls["sklearn"]()), settle_threads(), block(calls[t]())
            else:
                block(preds[q]())
            if args.pause:
                time.sleep(args.pause)
            c0, w0 = time.process_time(), time.perf_counter()
            block(calls[t]())
            w1, c1 = time.perf_counter(), time.process_time()
            out.setdefault((t, q), []).append((w1 - w0, c1 - c0))
    print(f"N={args.n} D={args.d} {args.dtype} pick={pick} reps={args.reps} pause={args.pause} "
          f"blas_threads={args.blas_threads or 'default'} jax={jax.__version__}")
    print(f"settle_threads after sklearn waited: median {np.median(waits) * 1e3:.0f} ms, "
          f"max {np.max(waits) * 1e3:.0f} ms")
    print(f"{'target':14s} {'after':16s} {'median ms':>9s} {'min ms':>7s} {'IQR ms':>7s} {'cpu/wall':>8s} {'fast':>5s}")
    fastest = {t: min(x[0] for (tt, _), v in out.items() if tt == t for x in v) * 1e3
               for t in targets}
    for (t, q), v in sorted(out.items()):
        w = np.array([x[0] for x in v]) * 1e3
        r = np.array([x[1] / x[0] for x in v])
        q25, q75 = np.percentile(w, [25, 75])
        fast = np.mean(w < 1.4 * fastest[t])
        print(f"{t:14s} {q:16s} {np.median(w):9.3f} {w.min():7.3f} {q75 - q25:7.3f} "
              f"{np.median(r):8.2f} {fast:5.0%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
