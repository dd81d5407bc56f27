"""The Batching race's view: the race (and the scaling run) the user ran, timed again here.

Timings are measured on the machine that runs the view, never copied from the app's
run: what carries over is what was raced (methods, data, gamma, repeats, budget) and
what does not depend on the machine (each method's agreement with float64).
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from core.bench.race import RaceRow, race, scaling_race
from core.bench.records import race_csv
from core.bench.timing import environment_info
from core.precision import dtype_scope

__all__ = ["race_arrays", "race_view", "race_figure"]


def _number(value: float | None) -> float:
    return np.nan if value is None else value


def race_arrays(rows: Sequence[RaceRow], prefix: str) -> dict[str, np.ndarray]:
    """One array per column of the race's table, one entry per row (NaN where none).

    Returns:
      "<prefix>_method", "<prefix>_status" (str); "<prefix>_n" (int64); float64
      "<prefix>_max_abs_error" (against float64), "<prefix>_median_s",
      "<prefix>_spread_s", "<prefix>_compile_s", "<prefix>_first_call_s",
      "<prefix>_speedup" (over the baseline).
    """
    timing = lambda r, key: _number(getattr(r.timing, key) if r.timing else None)  # noqa: E731
    return {
        f"{prefix}_method": np.asarray([r.method for r in rows], dtype=str),
        f"{prefix}_status": np.asarray([r.status for r in rows], dtype=str),
        f"{prefix}_n": np.asarray([r.n for r in rows], dtype=np.int64),
        f"{prefix}_max_abs_error": np.asarray([_number(r.max_abs_error) for r in rows], dtype=np.float64),
        f"{prefix}_median_s": np.asarray([timing(r, "median_s") for r in rows], dtype=np.float64),
        f"{prefix}_spread_s": np.asarray([timing(r, "spread_s") for r in rows], dtype=np.float64),
        f"{prefix}_compile_s": np.asarray([timing(r, "compile_s") for r in rows], dtype=np.float64),
        f"{prefix}_first_call_s": np.asarray([timing(r, "first_call_s") for r in rows], dtype=np.float64),
        f"{prefix}_speedup": np.asarray([_number(r.speedup_vs_baseline) for r in rows], dtype=np.float64),
    }


def _environment(dtype: str) -> dict[str, Any]:
    with dtype_scope(dtype):  # x64_enabled as the race ran
        return {**environment_info(), "dtype": dtype}


def race_view(X: np.ndarray, y: np.ndarray | None, *, race_run: Mapping[str, Any] | None = None,
              scaling_run: Mapping[str, Any] | None = None) -> dict[str, np.ndarray]:
    """The races the page shows, run again on this machine.

    Args:
      X: (N, D) the data the race ran on, float32 or float64; y: not used.
      race_run: the race on the data, if the user ran it: "gamma", "methods" (registry
        names, in order), "dtype", "repeats", "budget_s", "dataset" (its label, for the CSV).
      scaling_run: the scaling run, if the user ran it: "n_values", "d", "methods",
        "dtype", "seed", "repeats", "budget_s" (standard normal data, gamma by the
        median heuristic at each N).

    Returns:
      `race_arrays(rows, "race")` and "race_csv" (the page's CSV download, text: the
      rows of `race_csv` with the environment measured here); the same with "scaling".
    """
    view: dict[str, np.ndarray] = {}
    if race_run is not None:
        r = race_run
        rows = race(X, None, r["gamma"], r["methods"], r["dtype"], repeats=r["repeats"],
                    budget_s=r["budget_s"])
        view.update(race_arrays(rows, "race"))
        view["race_csv"] = np.asarray(race_csv(rows, _environment(r["dtype"]), extra=dict(
            dataset=r["dataset"], gamma=r["gamma"], budget_s=r["budget_s"])))
    if scaling_run is not None:
        s = scaling_run
        rows = scaling_race(s["n_values"], s["d"], s["methods"], s["dtype"], seed=s["seed"],
                            repeats=s["repeats"], budget_s=s["budget_s"])
        view.update(race_arrays(rows, "scaling"))
        view["scaling_csv"] = np.asarray(race_csv(rows, _environment(s["dtype"]), extra=dict(
            dataset=f"standard normal, D = {s['d']}", gamma="median heuristic",
            budget_s=s["budget_s"])))
    return view


def race_figure(view: dict[str, np.ndarray]):
    """The page's time chart: each method's steady-state median, log scale (Plotly)."""
    import plotly.graph_objects as go

    fig = go.Figure()
    if "race_method" in view:
        ok = view["race_status"] == "ok"
        fig.add_trace(go.Bar(x=view["race_median_s"][ok], y=view["race_method"][ok],
                             orientation="h", name="steady state (median)"))
        fig.add_trace(go.Bar(x=view["race_compile_s"][ok], y=view["race_method"][ok],
                             orientation="h", name="compile (once)"))
    fig.update_layout(title="Time per call on this machine (log scale)", barmode="group",
                      xaxis={"type": "log", "title": "seconds"})
    return fig
