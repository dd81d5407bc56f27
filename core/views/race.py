"""The Batching race's view: the race (and the scaling run) the user ran, timed again here.

Timings are measured on the machine that runs the view, never copied from the app's
run: what carries over is what was raced (methods, data, gamma, repeats, budget) and
what does not depend on the machine (each method's agreement with float64).
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

import numpy as np

from core.bench.race import RaceRow, crossovers, race, scaling_race
from core.bench.records import race_csv
from core.bench.timing import environment_info
from core.precision import dtype_scope

__all__ = ["race_arrays", "race_on_data", "scaling_with_n", "race_view", "race_figure"]


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


def race_on_data(X: np.ndarray, gamma: float, methods: Sequence[str], dtype: str, repeats: int,
                 budget_s: float, dataset: str, *,
                 on_step: Callable[[int, int, str, str], None] | None = None,
                 on_row: Callable[[int, int, RaceRow], None] | None = None,
                 should_stop: Callable[[], bool] | None = None) -> dict[str, Any]:
    """The page's "Race on the current data": each method timed on X and checked against float64.

    Args:
      X: (N, D) the data; gamma: the RBF's gamma; methods: registry names, in order;
      dtype, repeats, budget_s: as in `race`; dataset: the data's label, for the CSV.
      on_step, on_row, should_stop: `race`'s progress hooks (the page's progress bar).

    Returns:
      `race_arrays(rows, "race")`, "race_csv" (text, the page's CSV download), and for
      the page's table and charts "rows" (the `RaceRow`s) and "env" (where it ran).
    """
    rows = race(X, None, gamma, methods, dtype, repeats=repeats, budget_s=budget_s,
                on_step=on_step, on_row=on_row, should_stop=should_stop)
    env = _environment(dtype)
    csv = race_csv(rows, env, extra=dict(dataset=dataset, gamma=gamma, budget_s=budget_s))
    return {**race_arrays(rows, "race"), "race_csv": np.asarray(csv), "rows": rows, "env": env}


def scaling_with_n(n_values: Sequence[int], d: int, methods: Sequence[str], dtype: str, seed: int,
                   repeats: int, budget_s: float, *,
                   on_step: Callable[[int, int, str, str], None] | None = None,
                   on_row: Callable[[int, int, RaceRow], None] | None = None,
                   should_stop: Callable[[], bool] | None = None) -> dict[str, Any]:
    """The page's "Scaling with N": the race at each N on seeded standard normal (N, d) data.

    Args:
      n_values, d, methods, dtype, seed, repeats, budget_s: as in `scaling_race` (gamma
        by the median heuristic at each N).
      on_step, on_row, should_stop: progress hooks, as in `race_on_data`.

    Returns:
      `race_arrays(rows, "scaling")`, "scaling_csv" (text), the crossovers as
      "scaling_crossover_n" (float64), "scaling_crossover_faster" and
      "scaling_crossover_slower" (str); for the page "rows", "env" and "crossings"
      (`crossovers(rows)`).
    """
    rows = scaling_race(n_values, d, methods, dtype, seed=seed, repeats=repeats,
                        budget_s=budget_s, on_step=on_step, on_row=on_row,
                        should_stop=should_stop)
    env = _environment(dtype)
    csv = race_csv(rows, env, extra=dict(dataset=f"standard normal, D = {d}",
                                         gamma="median heuristic", budget_s=budget_s))
    crossings = crossovers(rows)
    return {**race_arrays(rows, "scaling"), "scaling_csv": np.asarray(csv),
            "scaling_crossover_n": np.asarray([c[0] for c in crossings], dtype=np.float64),
            "scaling_crossover_faster": np.asarray([c[1] for c in crossings], dtype=str),
            "scaling_crossover_slower": np.asarray([c[2] for c in crossings], dtype=str),
            "rows": rows, "env": env, "crossings": crossings}


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
      The arrays of `race_on_data` (with "race_csv", the page's CSV download, text: the
      rows of `race_csv` with the environment measured here) and of `scaling_with_n`.
    """
    sections: dict[str, Any] = {}
    if race_run is not None:
        r = race_run
        sections.update(race_on_data(X, r["gamma"], r["methods"], r["dtype"], r["repeats"],
                                     r["budget_s"], r["dataset"]))
    if scaling_run is not None:
        s = scaling_run
        sections.update(scaling_with_n(s["n_values"], s["d"], s["methods"], s["dtype"],
                                       s["seed"], s["repeats"], s["budget_s"]))
    return {name: value for name, value in sections.items() if isinstance(value, np.ndarray)}


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
