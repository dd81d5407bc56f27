"""How fast and how accurate is "auto" against the peers and the floor?

    python benchmarks/gram_bench.py            # N 1000/4000/8000 x D 2/16/128 x float32/64
    python benchmarks/gram_bench.py --quick    # a small grid, for a smoke test

For each N, D and dtype on seeded standard normal data X (N, D), K = K(X, X) with
the median-heuristic gamma:

* times: "auto" (and the methods it chooses between), the peers (scikit-learn
  `rbf_kernel`, SciPy `cdist` + `exp`, NumPy `einsum` expansion) and two floors,
  "write a fresh N x N buffer and exponentiate it" in NumPy and in JAX. Every
  registry method runs through `core.bench.race.race` (the harness of the app and the
  CLI: compile time apart, results forced, accuracy against float64). The
  methods are timed in ROUNDS: each round times every method once, in an order
  rotated from round to round, so that a busy spell of the machine hits them
  all alike; the medians are over the rounds (SMALL_N_ROUNDS_FACTOR times as many
  at N <= SMALL_N, where a call takes a millisecond). Each method (and each floor) is
  timed only once the threads the one before it left running are idle
  (`core.bench.timing.settle_threads`): every one starts from the same quiet
  process (docs/BENCHMARKS.md, "Threads left running between methods").
  Then one untimed warm-up call, then the timed one, in every round: the race
  compiles a compiled method afresh each round, and the first call of a new
  executable is not its steady state.
* accuracy: max |K - K_ref| against SciPy's direct differences in float64 on
  the same (already rounded) data, for unit data and for the same data offset
  1e4 from the origin.

Writes benchmarks/results/gram_<UTC timestamp>.csv and .md, two SVG charts, and
copies the Markdown to benchmarks/results/latest.md.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import html
import json
import os
import platform
import sys
from functools import partial
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from core.compile_options import COMPILER_OPTIONS  # noqa: E402
from core.kernels.functions import median_heuristic_gamma  # noqa: E402
from core.dense import choose_auto  # noqa: E402
from core.precision import dtype_scope  # noqa: E402
from core.bench.race import race, standard_normal_data  # noqa: E402
from core.bench.timing import environment_info, time_call  # noqa: E402

PEERS = ("sklearn", "scipy_cdist", "numpy_expansion")
OURS = ("auto", "jit_panels", "numpy_tiled", "jit_mirrored", "jit_centered", "jit_numpy_exp")
CONTEXT = ("jit_expansion",)  # fast but inaccurate far from the origin: not eligible
FLOORS = ("floor_numpy", "floor_jax")
TARGET_PEER = {"float32": 0.4, "float64": 0.6}
TARGET_FLOOR = 2.0          # float32 only: float64's floor has no target
TARGET_ERROR_F32 = 2e-6
OFFSET = 1e4
RESULTS = ROOT / "benchmarks" / "results"
# Points up to this N get SMALL_N_ROUNDS_FACTOR times the rounds: a call there takes
# about a millisecond, so more rounds cost little, and one call's time swings with
# whether XLA's worker threads get a core each, which a median of few calls does not
# average out (docs/BENCHMARKS.md, "The Gram matrix").
SMALL_N = 1000
SMALL_N_ROUNDS_FACTOR = 3


def rounds_for(n: int, rounds: int) -> int:
    """Timed rounds at a point with N = n when the run asks for `rounds`."""
    return rounds * SMALL_N_ROUNDS_FACTOR if n <= SMALL_N else rounds


def floor_numpy(n: int, m: int, dtype: str) -> np.ndarray:
    """Write a fresh (n, m) buffer and exponentiate it in place: NumPy's floor."""
    out = np.empty((n, m), dtype)
    out.fill(-0.5)
    np.exp(out, out=out)
    return out


@partial(jax.jit, compiler_options=COMPILER_OPTIONS)
def _exp_outer(a: jax.Array, b: jax.Array) -> jax.Array:
    # One fused pass: every entry written once, one exp each (XLA would fold
    # exp of a broadcast constant into a single exp, so the entries must vary).
    # Compiled with the options every timed method gets (core.compile_options).
    return jnp.exp(a[:, None] - b[None, :])


def floor_jax(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """A fresh (n, m) JAX buffer of exponentials, handed over as NumPy: JAX's floor."""
    return np.asarray(_exp_outer(a, b))


def time_floors(n: int, dtype: str) -> dict[str, float]:
    """One steady-state time of each floor, after one untimed call, as every method gets."""
    a = np.linspace(-1, 0, n, dtype=dtype)
    with dtype_scope(dtype):
        return {
            "floor_numpy": time_call(floor_numpy, n, n, dtype, warmup=1, repeats=1,
                                     budget_s=None, settle=True).times_s[0],
            "floor_jax": time_call(floor_jax, a, a, warmup=1, repeats=1, budget_s=None,
                                   settle=True).times_s[0],
        }


def bench_point(n: int, d: int, dtype: str, rounds: int, seed: int) -> list[dict[str, Any]]:
    """All methods and floors at one (N, D, dtype): one row each."""
    X, _ = standard_normal_data(n, d, seed=seed)
    gamma = median_heuristic_gamma(X)
    methods = [*OURS, *PEERS, *CONTEXT]
    times: dict[str, list[float]] = {name: [] for name in (*methods, *FLOORS)}
    first: dict[str, Any] = {}
    for r in range(rounds):
        shift = r % len(methods)
        order = methods[shift:] + methods[:shift]
        before = r % 2 == 0  # floors alternate between the start and the end of a round
        if before:
            for k, v in time_floors(n, dtype).items():
                times[k].append(v)
        # settle: each method starts once the threads the one before it left
        # running are idle (scikit-learn's OpenBLAS workers spin for 0.1 s after
        # it returns and held one of the two cores from the next method).
        rows = race(X, None, gamma, order, dtype, repeats=1, budget_s=None,
                    warmup=1, reference=r == 0, settle=True)
        for row in rows:
            if row.status != "ok":
                raise RuntimeError(f"{row.method} at N={n}, D={d}, {dtype}: {row.reason}")
            times[row.method].extend(row.timing.times_s)
            if r == 0:
                first[row.method] = row
        if not before:
            for k, v in time_floors(n, dtype).items():
                times[k].append(v)
    # Far from the origin: the same points moved by OFFSET, rounded to dtype.
    X_far = (X + OFFSET).astype(dtype)
    far = {row.method: row.max_abs_error
           for row in race(X_far, None, gamma, methods, dtype, repeats=1, budget_s=None, warmup=0)}
    out = []
    for name, ts in times.items():
        row = first.get(name)
        out.append(dict(
            n=n, d=d, dtype=dtype, method=name,
            role=("auto" if name == "auto" else "peer" if name in PEERS else
                  "floor" if name in FLOORS else "context" if name in CONTEXT else "candidate"),
            picked=row.picked if row else "", gamma=gamma,
            median_s=float(np.median(ts)), min_s=float(np.min(ts)),
            iqr_s=float(np.subtract(*np.percentile(ts, [75, 25]))), rounds=len(ts),
            compile_s=row.timing.compile_s if row else None,
            max_abs_error=row.max_abs_error if row else None,
            max_abs_error_offset=far.get(name),
        ))
    return out


def summarize(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One line per (N, D, dtype): auto against the fastest peer and the floor."""
    points: dict[tuple, dict[str, dict]] = {}
    for r in rows:
        points.setdefault((r["dtype"], r["n"], r["d"]), {})[r["method"]] = r
    out = []
    for (dtype, n, d), by in sorted(points.items()):
        auto = by["auto"]
        peer = min((by[p] for p in PEERS), key=lambda r: r["median_s"])
        floor = min((by[f] for f in FLOORS), key=lambda r: r["median_s"])
        err = max(auto["max_abs_error"], auto["max_abs_error_offset"])
        vs_peer = auto["median_s"] / peer["median_s"]
        vs_floor = auto["median_s"] / floor["median_s"]
        # The same ratios from each method's fastest round: less of the machine's
        # other load in them (a second view, not the target's measure).
        best_peer = min(by[p]["min_s"] for p in PEERS)
        best_floor = min(by[f]["min_s"] for f in FLOORS)
        out.append(dict(
            dtype=dtype, n=n, d=d, picked=auto["picked"], auto_s=auto["median_s"],
            peer=peer["method"], peer_s=peer["median_s"], floor=floor["method"],
            floor_s=floor["median_s"], vs_peer=vs_peer, vs_floor=vs_floor, error=err,
            vs_peer_min=auto["min_s"] / best_peer, vs_floor_min=auto["min_s"] / best_floor,
            peer_ok=vs_peer <= TARGET_PEER[dtype],
            floor_ok=None if dtype != "float32" else vs_floor <= TARGET_FLOOR,
            error_ok=None if dtype != "float32" else err <= TARGET_ERROR_F32,
        ))
    return out


def _ms(s: float) -> str:
    return f"{s * 1e3:.3g}"


def _mark(ok: bool | None) -> str:
    return "—" if ok is None else ("met" if ok else "**not met**")


def markdown(rows, summary, env, config, charts) -> str:
    lines = [f"# Gram benchmark, {env['timestamp_utc']}", ""]
    lines += [f"Machine: {env['cpu_model']}, {env['cpu_count']} cores; Python {env['python']}, "
              f"JAX {env['jax']}, NumPy {env['numpy']}, SciPy {env['scipy']}, scikit-learn "
              f"{env['scikit-learn']}; BLAS {env['blas']}; OPENBLAS_CORETYPE="
              f"{env['openblas_coretype'] or '(unset)'}; load average at start "
              f"{env['load_average_start']}, at end {env['load_average_end']}.", "",
              f"Command: `{config['command']}`. Rounds per point: {config['rounds']}"
              + (f", {config['small_rounds']} at N ≤ {SMALL_N:,}"
                 if config.get("small_rounds", config["rounds"]) != config["rounds"] else "")
              + " (medians over "
              "rounds; method order rotated each round). Data: seeded standard normal X (N, D), "
              "K(X, X), median-heuristic gamma. Times in ms.", ""]
    lines += ["## Auto against the targets", "",
              "| dtype | N | D | auto → pick | auto | fastest peer | floor | auto / peer "
              "(target) | auto / floor (target ≤ 2) | max error (unit, 1e4 offset) | "
              "ratios of the fastest rounds (peer, floor) |",
              "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|"]
    for s in summary:
        floor_cell = f"{s['vs_floor']:.2f} {_mark(s['floor_ok'])}" if s["dtype"] == "float32" \
            else f"{s['vs_floor']:.2f} (no target)"
        err_cell = f"{s['error']:.1e} {_mark(s['error_ok'])}" if s["dtype"] == "float32" \
            else f"{s['error']:.1e}"
        lines.append(
            f"| {s['dtype']} | {s['n']} | {s['d']} | {s['picked']} | {_ms(s['auto_s'])} | "
            f"{_ms(s['peer_s'])} ({s['peer']}) | {_ms(s['floor_s'])} ({s['floor']}) | "
            f"{s['vs_peer']:.2f} ≤ {TARGET_PEER[s['dtype']]} {_mark(s['peer_ok'])} | "
            f"{floor_cell} | {err_cell} | {s['vs_peer_min']:.2f}, {s['vs_floor_min']:.2f} |")
    met = sum(s["peer_ok"] for s in summary)
    lines += ["", f"Peer target met at {met} of {len(summary)} points; floor target (float32) at "
              f"{sum(bool(s['floor_ok']) for s in summary if s['dtype'] == 'float32')} of "
              f"{sum(s['dtype'] == 'float32' for s in summary)}.", ""]
    for name in charts:
        lines += [f"![{name}]({name})", ""]
    lines += ["## Every method", "",
              "| dtype | N | D | method | median | min | IQR | compile | max error | "
              "max error, 1e4 offset |", "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        comp = "" if r["compile_s"] is None else _ms(r["compile_s"])
        e1 = "" if r["max_abs_error"] is None else f"{r['max_abs_error']:.1e}"
        e2 = "" if r["max_abs_error_offset"] is None else f"{r['max_abs_error_offset']:.1e}"
        name = r["method"] + (f" → {r['picked']}" if r["picked"] else "")
        lines.append(f"| {r['dtype']} | {r['n']} | {r['d']} | {name} | {_ms(r['median_s'])} | "
                     f"{_ms(r['min_s'])} | {_ms(r['iqr_s'])} | {comp} | {e1} | {e2} |")
    return "\n".join(lines) + "\n"


def ratio_chart(summary, key: str, target: dict[str, float], title: str) -> str:
    """A small SVG bar chart of one ratio per point, with the target as a line."""
    bar, gap, left, top, width = 16, 6, 170, 40, 420
    dtypes = sorted({s["dtype"] for s in summary})
    colors = {"float32": "#4c78a8", "float64": "#f58518"}
    vmax = max(max(s[key] for s in summary), *target.values()) * 1.1
    scale = width / vmax
    items = [s for s in summary]
    height = top + len(items) * (bar + gap) + 40
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 80}" height="{height}" '
           'font-family="sans-serif" font-size="12">',
           '<rect width="100%" height="100%" fill="white"/>',
           f'<text x="10" y="20" font-size="14">{html.escape(title)}</text>']
    for i, s in enumerate(items):
        y = top + i * (bar + gap)
        v = s[key]
        out.append(f'<text x="{left - 6}" y="{y + bar - 4}" text-anchor="end">'
                   f'{s["dtype"]} N={s["n"]} D={s["d"]}</text>')
        out.append(f'<rect x="{left}" y="{y}" width="{v * scale:.1f}" height="{bar}" '
                   f'fill="{colors.get(s["dtype"], "#888")}"/>')
        out.append(f'<text x="{left + v * scale + 4:.1f}" y="{y + bar - 4}">{v:.2f}</text>')
        t = target.get(s["dtype"])
        if t is not None:
            x = left + t * scale
            out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{y - 2}" y2="{y + bar + 2}" '
                       'stroke="#d62728" stroke-width="2"/>')
    y = top + len(items) * (bar + gap) + 20
    names = {"float32": "blue", "float64": "orange"}
    out.append(f'<text x="{left}" y="{y}">red line: the target; bars: '
               + ", ".join(f'{dt} {names.get(dt, "grey")}' for dt in dtypes) + '</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def write_report(rows, env, config, out: Path, stem_name: str) -> str:
    """Charts, Markdown and latest.md for `rows`; returns the Markdown."""
    summary = summarize(rows)
    charts = {
        f"{stem_name}_vs_peer.svg": ratio_chart(
            summary, "vs_peer", TARGET_PEER, "auto time / fastest peer's time (lower is better)"),
    }
    float32 = [s for s in summary if s["dtype"] == "float32"]
    if float32:  # the floor target is float32's only: no chart for a float64-only run
        charts[f"{stem_name}_vs_floor.svg"] = ratio_chart(
            float32, "vs_floor", {"float32": TARGET_FLOOR},
            "auto time / floor (write + exp of N×N), float32")
    for name, svg in charts.items():
        (out / name).write_text(svg, encoding="utf-8")
        # latest.md links the charts by name: keep copies beside it
        (out / name.replace(stem_name, "latest")).write_text(svg, encoding="utf-8")
    text = markdown(rows, summary, env, config, charts)
    (out / f"{stem_name}.md").write_text(text, encoding="utf-8")
    (out / "latest.md").write_text(text.replace(f"{stem_name}_", "latest_"), encoding="utf-8")
    return text


def report_from_csv(path: Path) -> int:
    """Rebuild the report of an earlier run from its CSV (numbers as they were)."""
    with open(path, newline="", encoding="utf-8") as f:
        raw = list(csv.DictReader(f))

    def num(v: str) -> Any:
        return None if v in ("", "None") else float(v)

    rows, env = [], {}
    for r in raw:
        env = {k[4:]: v for k, v in r.items() if k.startswith("env_")}
        rows.append(dict(
            n=int(r["n"]), d=int(r["d"]), dtype=r["dtype"], method=r["method"], role=r["role"],
            picked=r["picked"], gamma=float(r["gamma"]), median_s=float(r["median_s"]),
            min_s=float(r["min_s"]), iqr_s=float(r["iqr_s"]), rounds=int(r["rounds"]),
            compile_s=num(r["compile_s"]), max_abs_error=num(r["max_abs_error"]),
            max_abs_error_offset=num(r["max_abs_error_offset"])))
    env.setdefault("load_average_end", "?")
    large = [r["rounds"] for r in rows if r["n"] > SMALL_N]
    small = [r["rounds"] for r in rows if r["n"] <= SMALL_N]
    config = dict(command=env.pop("command", "python benchmarks/gram_bench.py"),
                  rounds=max(large or small), small_rounds=max(small or large))
    print(write_report(rows, env, config, path.parent, path.stem))
    return 0


def machine_info() -> dict[str, Any]:
    env = environment_info()
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        model = platform.processor()
    blas = ""
    try:
        from threadpoolctl import threadpool_info
        info = [i for i in threadpool_info() if i.get("user_api") == "blas"]
        blas = ", ".join(f"{i['internal_api']} {i['version']} ({i.get('architecture')}, "
                         f"{i['num_threads']} threads)" for i in info)
    except Exception:  # threadpoolctl is optional here
        pass
    env.update(cpu_model=model or "unknown", blas=blas,
               openblas_coretype=os.environ.get("OPENBLAS_CORETYPE", ""),
               load_average_start=" ".join(f"{x:.1f}" for x in os.getloadavg()))
    return env


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="N 1000/2000, D 2/128: a smoke test")
    p.add_argument("--n", default=None, help="comma-separated N (default 1000,4000,8000)")
    p.add_argument("--d", default=None, help="comma-separated D (default 2,16,128)")
    p.add_argument("--dtypes", default="float32,float64")
    p.add_argument("--rounds", type=int, default=None,
                   help=f"timed rounds per point (default 7, quick 3; {SMALL_N_ROUNDS_FACTOR}x that "
                        f"at N <= {SMALL_N})")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=str(RESULTS), help="folder for the results")
    p.add_argument("--report", metavar="CSV", default=None,
                   help="rebuild the Markdown and charts from a CSV this script wrote; no timing")
    args = p.parse_args(argv)
    if args.report:
        return report_from_csv(Path(args.report))
    ns = [int(x) for x in (args.n or ("1000,2000" if args.quick else "1000,4000,8000")).split(",")]
    ds = [int(x) for x in (args.d or ("2,128" if args.quick else "2,16,128")).split(",")]
    dtypes = args.dtypes.split(",")
    rounds = args.rounds or (3 if args.quick else 7)
    env = machine_info()
    config = dict(command="python benchmarks/gram_bench.py " + " ".join(argv or sys.argv[1:]),
                  n=ns, d=ds, dtypes=dtypes, rounds=rounds,
                  small_rounds=rounds_for(SMALL_N, rounds), seed=args.seed)
    rows = []
    for dtype in dtypes:
        for n in ns:
            for d in ds:
                print(f"{dtype} N={n} D={d} (auto → {choose_auto(n, n, d, dtype)}) ...",
                      file=sys.stderr, flush=True)
                point = bench_point(n, d, dtype, rounds_for(n, rounds), args.seed)
                rows += point
                by = {r["method"]: r for r in point}
                print("   " + "  ".join(f"{k}={v['median_s'] * 1e3:.3g}ms" for k, v in by.items()),
                      file=sys.stderr, flush=True)
    env["load_average_end"] = " ".join(f"{x:.1f}" for x in os.getloadavg())
    env["command"] = config["command"]
    env["rounds"] = rounds
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    stem = out / f"gram_{stamp}"
    env_cols = {f"env_{k}": (json.dumps(v) if isinstance(v, (list, dict)) else v)
                for k, v in env.items()}
    with open(f"{stem}.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=[*rows[0], *env_cols])
        writer.writeheader()
        for r in rows:
            writer.writerow({**r, **env_cols})
    text = write_report(rows, env, config, out, stem.name)
    print(text)
    print(f"wrote {stem}.csv, {stem}.md, {out / 'latest.md'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
