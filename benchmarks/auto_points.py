"""Single points of the Gram benchmark, fast: chosen methods against the peers.

    python benchmarks/auto_points.py --points 1000x2,4000x128 --dtypes float32 --rounds 9
    python benchmarks/auto_points.py --points 1000x2 --methods auto,jit_broadcast,jit_centered

For iterating on "auto" (core/dense/auto.py) without the full grid of
benchmarks/gram_bench.py: the same harness (`core.bench.race.race`, one call per
method per round, the order rotated each round, compile apart), the same data
(seeded standard normal X, K(X, X), median-heuristic gamma) and the same peers.
Prints, per point, each method's median and IQR over the rounds in ms, its ratio
to the fastest peer's median, and the load average before and after. Writes nothing.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from core.bench.race import race, standard_normal_data  # noqa: E402
from core.dense import choose_auto  # noqa: E402
from core.kernels.functions import median_heuristic_gamma  # noqa: E402

PEERS = ("sklearn", "scipy_cdist")


def point(n: int, d: int, dtype: str, methods: list[str], rounds: int) -> dict[str, list[float]]:
    """Seconds per round for each of `methods` and the peers at one (N, D, dtype)."""
    X, _ = standard_normal_data(n, d, seed=0)
    gamma = median_heuristic_gamma(X)
    names = [*methods, *[p for p in PEERS if p not in methods]]
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds):
        order = names[r % len(names):] + names[:r % len(names)]
        for row in race(X, None, gamma, order, dtype, repeats=1, budget_s=None,
                        warmup=1 if r == 0 else 0, reference=False):
            if row.status != "ok":
                raise RuntimeError(f"{row.method}: {row.reason}")
            times[row.method].extend(row.timing.times_s)
    return times


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--points", default="1000x2", help="comma-separated NxD, e.g. 1000x2,4000x128")
    p.add_argument("--dtypes", default="float32,float64")
    p.add_argument("--methods", default="auto", help="comma-separated registry names")
    p.add_argument("--rounds", type=int, default=7)
    args = p.parse_args(argv)
    methods = args.methods.split(",")
    for dtype in args.dtypes.split(","):
        for spec in args.points.split(","):
            n, d = (int(v) for v in spec.lower().split("x"))
            load = " ".join(f"{x:.1f}" for x in os.getloadavg())
            times = point(n, d, dtype, methods, args.rounds)
            med = {k: float(np.median(v)) for k, v in times.items()}
            peer = min(PEERS, key=med.__getitem__)
            print(f"{dtype} N={n} D={d} (auto → {choose_auto(n, n, d, dtype)}); fastest peer "
                  f"{peer} {med[peer] * 1e3:.3g} ms; load {load} → "
                  + " ".join(f"{x:.1f}" for x in os.getloadavg()))
            for k, v in times.items():
                iqr = np.subtract(*np.percentile(v, [75, 25]))
                print(f"   {k:16s} {med[k] * 1e3:8.3g} ms  IQR {iqr * 1e3:6.2g}  "
                      f"/ peer {med[k] / med[peer]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
