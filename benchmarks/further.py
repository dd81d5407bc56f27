"""Benchmark of the "vmap, further" page's timed topics, away from the page.

    python benchmarks/further.py                 # Jacobians n × m grid, lax.map at N = 2000
    python benchmarks/further.py --n 4000 --json results/further.json

Jacobians: median time of vmap-of-jvp (jacfwd) and vmap-of-vjp (jacrev) for
f(x) = tanh(W x) over a grid of input sizes n and output sizes m, with XLA's flop
counts, so the crossover can be read off. lax.map: XLA's scratch memory and the
median time of `lax.map(knn, X, batch_size=b)` from b = 1 (a loop) to vmap. Every
time is a median of up to 7 calls after a warm-up, compile apart, with its
interquartile spread, printed to 2 significant figures.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from core.bench.timing import environment_info  # noqa: E402
from core.lessons.further import jacobians, memory  # noqa: E402
from core.bench.report import format_timing  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[4, 64, 1024])
    parser.add_argument("--n", type=int, default=2000, help="rows for the lax.map sweep")
    parser.add_argument("--k", type=int, default=8)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    out = {"environment": environment_info(), "jacobians": [], "memory": []}

    print("Jacobian of tanh(W x): vmap of jvp (forward) against vmap of vjp (reverse)")
    for n in args.sizes:
        for m in args.sizes:
            rows = jacobians.jacobian_timings((n,), m, "n", budget_s=1.0)
            fwd, rev = rows[0]["timing"], rows[1]["timing"]
            flops = [jacobians.jacobian_flops(name, n, m) for name in ("vmap of jvp", "vmap of vjp")]
            print(f"  n={n:5d} m={m:5d}  forward {format_timing(fwd):>22}  "
                  f"reverse {format_timing(rev):>22}  flops {flops[0]:.2g} / {flops[1]:.2g}")
            out["jacobians"].append({"n": n, "m": m, "forward": fwd.as_dict(),
                                     "reverse": rev.as_dict(), "flops": flops})

    X = jnp.asarray(np.random.default_rng(0).normal(size=(args.n, 3)), jnp.float32)
    sizes = memory.batch_sizes(args.n)
    print(f"lax.map(knn, X, batch_size=b), X of shape ({args.n}, 3), k = {args.k}")
    for r in memory.memory_sweep(X, args.k, sizes, budget_s=1.0):
        label = "vmap" if r["batch_size"] is None else str(r["batch_size"])
        print(f"  b={label:>6}  scratch {r['temp_bytes']:>12,} bytes  {format_timing(r['timing'])}")
        out["memory"].append({"batch_size": r["batch_size"], "temp_bytes": r["temp_bytes"],
                              **r["timing"].as_dict()})
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
