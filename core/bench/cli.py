"""`python -m core.bench`: the batching race from the command line.

Runs `core.bench.race.race` on seeded standard normal data, prints one progress line per
method to stderr and a table to stdout, and optionally writes CSV and JSON files
labelled with `environment_info()`.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Sequence

from core.kernels.functions import median_heuristic_gamma
from core.dense.methods import METHODS
from core.precision import SUPPORTED_DTYPES, dtype_scope
from core.bench.records import race_csv
from core.bench.race import BASELINE, RaceRow, race, standard_normal_data
from core.bench.timing import environment_info
from core.bench.report import format_seconds

__all__ = ["build_parser", "format_table", "main"]

_EPILOG = f"""\
methods: {", ".join(METHODS)}
  Methods that would be too slow or too large at the requested size decline
  (status "declined", with the reason) instead of running.

output files:
  --csv   one row per method (RaceRow.as_dict: method, status, reason, compile_s,
          median_s, min_s, spread_s, repeats, max_abs_error, speedup_vs_baseline, ...),
          then the environment as extra columns named env_<key> (env_jax, env_numpy,
          env_scikit-learn, env_jax_devices as JSON, ...), repeated on every row so
          that CSVs from different machines can be concatenated; plain CSV, no comments.
  --json  {{"environment": {{...}}, "config": {{...}}, "rows": [...]}}, rows with the
          raw repeat times (times_s).
  Times are in seconds; speedup is {BASELINE}'s median / the method's median.
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser; `--help` documents the output files."""
    p = argparse.ArgumentParser(
        prog="python -m core.bench", epilog=_EPILOG,
        description="Time the RBF Gram batching methods on the same seeded data.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=1000, help="rows of X (default 1000)")
    p.add_argument("--d", type=int, default=2, help="features (default 2)")
    p.add_argument("--m", type=int, default=None,
                   help="rows of a separate Y, for a rectangular K (default: K(X, X))")
    p.add_argument("--dtype", choices=SUPPORTED_DTYPES, default="float32")
    p.add_argument("--methods", default=None,
                   help="comma-separated registry names (default: all)")
    p.add_argument("--repeats", type=int, default=5, help="timed calls per method (default 5)")
    p.add_argument("--budget", type=float, default=2.0,
                   help="seconds per method, after which repeats stop (default 2)")
    p.add_argument("--gamma", type=float, default=None,
                   help="RBF gamma (default: median heuristic of X)")
    p.add_argument("--seed", type=int, default=0, help="data seed (default 0)")
    p.add_argument("--csv", metavar="PATH", help="write the rows as CSV")
    p.add_argument("--json", metavar="PATH", help="write environment, config and rows as JSON")
    return p


def _method_names(parser: argparse.ArgumentParser, text: str | None) -> list[str]:
    if text is None:
        return list(METHODS)
    names = [s.strip() for s in text.split(",") if s.strip()]
    unknown = [s for s in names if s not in METHODS]
    if unknown or not names:
        parser.error(f"unknown method(s) {', '.join(unknown) or '(none given)'}; "
                     f"valid names: {', '.join(METHODS)}")
    return names


def _name(row: RaceRow) -> str:
    return f"{row.method} → {row.picked}" if row.picked else row.method


def _speedup(s: float | None) -> str:
    return "-" if s is None else f"{s:.3g}×" if s < 1000 else f"{s:,.0f}×"


def format_table(rows: Sequence[RaceRow]) -> str:
    """The rows as a fixed-width text table, one line per method."""
    header = ("method", "compiled", "compile", "median", "min", "spread", "repeats",
              f"speedup vs {BASELINE}", "max abs error", "status")
    lines = [header]
    for r in rows:
        t = r.timing
        cells = ["-" if t.compile_s is None else format_seconds(t.compile_s),
                 format_seconds(t.median_s),
                 format_seconds(t.min_s), format_seconds(t.spread_s), str(t.repeats)] if t \
            else ["-"] * 5
        lines.append((
            _name(r), "yes" if r.compiled else "no", *cells,
            _speedup(r.speedup_vs_baseline),
            "-" if r.max_abs_error is None else f"{r.max_abs_error:.2e}",
            r.status if r.status == "ok" else f"{r.status}: {r.reason}"))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header) - 1)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(line, widths)) + "  " + line[-1]
                     for line in lines)


def _write_csv(path: str, rows: Sequence[RaceRow], env: dict[str, Any]) -> None:
    # One CSV format for the CLI and the app's download: core.bench.records.
    with open(path, "w", newline="", encoding="utf-8") as f:
        f.write(race_csv(rows, env))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the race the arguments describe; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    names = _method_names(parser, args.methods)
    if args.n < 1 or args.d < 1 or (args.m is not None and args.m < 1) or args.repeats < 1:
        parser.error("--n, --d, --m and --repeats must be at least 1")
    X, Y = standard_normal_data(args.n, args.d, args.m, seed=args.seed)
    gamma = median_heuristic_gamma(X) if args.gamma is None else args.gamma

    def on_step(i: int, total: int, name: str, phase: str) -> None:
        if phase == "start":
            print(f"preparing {name} ({i} of {total}) …", file=sys.stderr, flush=True)
        elif phase == "round":
            print(f"every method in turn, round {i} of at most {total} …", file=sys.stderr, flush=True)

    def on_row(i: int, total: int, row: RaceRow) -> None:
        print(f"[{i}/{total}] {row.method} … {row.summary()}", file=sys.stderr, flush=True)

    rows = race(X, Y, gamma, names, args.dtype, repeats=args.repeats, budget_s=args.budget,
                on_step=on_step, on_row=on_row)
    print(f"N={args.n} M={args.m or args.n} D={args.d} {args.dtype} gamma={gamma:.4g}")
    print(format_table(rows))
    with dtype_scope(args.dtype):  # x64_enabled as the race ran
        env = {**environment_info(), "dtype": args.dtype}
    if args.csv:
        _write_csv(args.csv, rows, env)
    if args.json:
        config = {k: getattr(args, k) for k in ("n", "m", "d", "dtype", "repeats", "budget", "seed")}
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"environment": env, "config": {**config, "gamma": gamma, "methods": names},
                       "rows": [r.as_dict(include_times=True) for r in rows]}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
