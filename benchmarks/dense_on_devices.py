"""Do the dense pages' programs slow down when the CPU is split into one device per core?

    python benchmarks/dense_on_devices.py               # 3 alternations, 40 calls each
    python benchmarks/dense_on_devices.py --rounds 5

app.py asks XLA for one CPU device per core (launch/cpu_devices.py) so that the Scale
page's block engine can shard its rows. Every other page runs its jitted programs
on the first device. This times a few of those programs in fresh processes that
take turns: one with a single CPU device, one with the app's count, and so on
(`--rounds` times), so that a busy machine slows both alike. Each process compiles
and warms every program first, then reports the median and the interquartile range
of `--calls` timed calls (block_until_ready) in ms.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from launch.cpu_devices import COUNT_FLAG, MAX_CPU_DEVICES, cores_available  # noqa: E402

CASES = (("jit_centered", 1000, 2), ("jit_centered", 1000, 128), ("jit_method1", 1000, 2),
         ("jit_panels", 4000, 2), ("jit_mirrored", 4000, 128))

CHILD = """
import json, sys, time
import numpy as np, jax
from core.dense.methods import METHODS
calls, out = int(sys.argv[1]), {"devices": jax.device_count()}
for name, n, d in json.loads(sys.argv[2]):
    X = np.random.default_rng(0).standard_normal((n, d)).astype("float32")
    m = METHODS[name]
    f = m.jitted or m.fn
    for _ in range(2):
        jax.block_until_ready(f(X, X, 0.5))
    ts = []
    for _ in range(calls):
        t = time.perf_counter(); jax.block_until_ready(f(X, X, 0.5)); ts.append(time.perf_counter() - t)
    q1, med, q3 = np.percentile(ts, [25, 50, 75]) * 1e3
    out[f"{name} {n}x{d}"] = [med, q3 - q1]
print(json.dumps(out))
"""


def _child(count: int, calls: int) -> dict:
    env = {**os.environ, "XLA_FLAGS": f"{os.environ.get('XLA_FLAGS', '')} {COUNT_FLAG}={count}"}
    out = subprocess.run([sys.executable, "-c", CHILD, str(calls), json.dumps(CASES)], cwd=ROOT,
                         env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--calls", type=int, default=40)
    args = ap.parse_args()
    many = min(cores_available(), MAX_CPU_DEVICES)
    print(f"# {cores_available()} cores; load average {os.getloadavg()}")
    print("| program | devices | median ms per round (IQR) |")
    print("|---|---:|---|")
    rows: dict[tuple[str, int], list[str]] = {}
    for _ in range(args.rounds):
        for count in (1, many):
            res = _child(count, args.calls)
            devices = res.pop("devices")
            for key, (med, iqr) in res.items():
                rows.setdefault((key, devices), []).append(f"{med:.3g} ({iqr:.2g})")
    for (key, devices), cells in sorted(rows.items()):
        print(f"| {key} | {devices} | {', '.join(cells)} |")
    print(f"# load average at the end {os.getloadavg()}")


if __name__ == "__main__":
    main()
