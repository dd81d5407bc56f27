"""The Fit page's view: the LML surface, the climb, the fit and the held-out densities."""

from __future__ import annotations

import warnings
from typing import Mapping

import numpy as np

from core.data.regression import RegressionData, load_regression, regression_from_table
from core.data.uploads import load_table
from core.errors import CoreError
from core.lessons.fit.climb import climb
from core.lessons.fit.compare import compute_surface, fit_curve, held_out, time_surface
from core.precision import dtype_scope

__all__ = ["fit_data", "surface_section", "surface_timing_section", "climb_section",
           "curve_section", "held_out_section", "fit_view", "fit_figure"]

CLIMB_COLUMNS = ("gamma", "noise", "amplitude", "lml", "grad_norm")
_TIMING_RECORD = [("program", "U40"), ("median_s", "f8"), ("spread_s", "f8"), ("repeats", "i8")]


def fit_data(data: str, n: int, noise_sd: float, seed: int, dtype: str,
             upload_path: str | None = None, target: int | None = None) -> RegressionData:
    """The page's data with a target: a built-in set, or the user's table (path, 0-based target)."""
    if data == "upload":
        return regression_from_table(load_table(upload_path), target, n, seed, dtype)
    return load_regression(data, n, noise_sd, seed, dtype)


def _timing_table(rows) -> np.ndarray:
    """(name, TimingResult) pairs as records of program, median_s, spread_s, repeats."""
    table = np.zeros(len(rows), dtype=_TIMING_RECORD)
    for row, (name, r) in zip(table, rows):
        row["program"], row["median_s"], row["spread_s"], row["repeats"] = (
            name, r.median_s, r.spread_s, r.repeats)
    return table


def surface_section(X: np.ndarray, y: np.ndarray, dtype: str, side: int,
                    amplitude: float) -> dict[str, np.ndarray]:
    """Section 1: the LML over a side × side grid of (gamma, noise), one jitted call.

    Returns:
      "gammas" (G,), "noises" (S,), "lml" (G, S) (NaN where K has no Cholesky factor);
      "best_gamma", "best_noise", "best_lml" () the grid's largest finite cell (NaN if
      none), "failed" () how many cells are NaN.
    """
    with dtype_scope(dtype):
        s = compute_surface(X, y, side, amplitude)
    return {"gammas": s.gammas, "noises": s.noises, "lml": s.lml,
            "best_gamma": np.asarray(s.best_gamma), "best_noise": np.asarray(s.best_noise),
            "best_lml": np.asarray(s.best_lml), "failed": np.asarray(s.failed, dtype=np.int64)}


def _other_cores(t) -> np.ndarray:
    """A timing's `other_cores` as a 0-d array, NaN where it was not measured."""
    return np.asarray(np.nan if t.other_cores is None else t.other_cores)


def surface_timing_section(X: np.ndarray, y: np.ndarray, dtype: str, side: int, amplitude: float,
                           on_progress=None) -> dict[str, np.ndarray]:
    """Section 1's timing: the one call (by rows, every gamma at once where it fits) against
    the double loop on a few rows, measured where this runs.

    Returns:
      "surface_timing": one record per program ("program", "median_s", "spread_s",
      "repeats"); "surface_speedup" () the loop scaled to all cells over the one call by
      rows, the median of the per-round ratios (every way is timed in turn, round by
      round), and "surface_speedup_interval" (3,) (ratio, low, high); "surface_other_cores"
      () other processes' CPU meanwhile, in cores (NaN: not measured); "surface_loop_all_s" () that scaled loop; "surface_cells", "surface_loop_cells"
      (); "surface_all_at_once_bytes" () what every gamma at once factors;
      "surface_max_abs_diff" () |loop − one call| over the cells both computed.
    """
    with dtype_scope(dtype):
        t = time_surface(X, y, side, amplitude, on_progress=on_progress)
    rows = [("one jitted call, by rows", t.by_row)]
    if t.all_at_once is not None:
        rows.append(("one jitted call, all at once", t.all_at_once))
    rows.append((f"double loop, {t.loop_cells} cells", t.loop))
    return {"surface_timing": _timing_table(rows), "surface_speedup": np.asarray(t.speedup),
            "surface_speedup_interval": np.asarray(t.speedup_interval),
            "surface_other_cores": _other_cores(t.by_row),
            "surface_loop_all_s": np.asarray(t.loop_all_s), "surface_cells": np.asarray(t.cells),
            "surface_loop_cells": np.asarray(t.loop_cells),
            "surface_all_at_once_bytes": np.asarray(t.all_at_once_bytes),
            "surface_max_abs_diff": np.asarray(t.max_abs_diff)}


def climb_section(X: np.ndarray, y: np.ndarray, dtype: str, *, gamma: float, noise: float,
                  amplitude: float, steps: int, learning_rate: float,
                  on_step=None) -> dict[str, np.ndarray]:
    """Section 2: Adam up the LML from (gamma, noise, amplitude), grad through the Cholesky.

    Args:
      on_step: called with the rows so far ((k, 5) array) after each step (the page draws
        the path as it grows; an exception there stops the climb).

    Returns:
      "climb" (k, 5): per step (row 0 the start) the CLIMB_COLUMNS, to where K stopped
      factoring if it did; "climb_error" () the message then, "" otherwise.
    """
    rows, error = [], ""
    with dtype_scope(dtype):
        try:
            for s in climb(X, y, gamma, noise, amplitude, steps=steps, learning_rate=learning_rate):
                rows.append([getattr(s, c) for c in CLIMB_COLUMNS])
                if on_step is not None:
                    on_step(np.asarray(rows, dtype=np.float64))
        except CoreError as err:  # K stopped factoring: the climb stops here, and says why
            error = str(err)
    return {"climb": np.asarray(rows, dtype=np.float64).reshape(-1, len(CLIMB_COLUMNS)),
            "climb_error": np.asarray(error)}


def curve_section(d: RegressionData, dtype: str, gamma: float, noise: float,
                  amplitude: float) -> dict[str, np.ndarray]:
    """Section 3 (1-D data): the GP's fit at the chosen point beside kernel ridge regression.

    Returns:
      "grid" (200,); "posterior_mean", "posterior_sd" (a new observation's, noise
      included) and "posterior_f_sd" (f's) there; "krr_mean" kernel ridge regression with
      λ = noise; "krr_relative_gap" () max |GP mean − kernel ridge mean| / max |GP mean|;
      "truth" the true function on the grid (synthetic sets only).

    Raises:
      CoreError: K has no Cholesky factor at the chosen point.
    """
    with dtype_scope(dtype):
        curve = fit_curve(d.X, d.y, gamma, noise, amplitude)
    variance = curve.posterior.variance
    view = {"grid": curve.grid, "posterior_mean": curve.posterior.mean,
            "posterior_sd": np.sqrt(np.maximum(variance, 0.0)),
            "posterior_f_sd": np.sqrt(np.maximum(variance - noise, 0.0)),
            "krr_mean": curve.krr_mean,
            "krr_relative_gap": np.asarray(curve.max_gap / max(curve.scale, np.finfo(dtype).tiny))}
    if d.spec.truth is not None:
        view["truth"] = d.spec.truth(curve.grid[:, None])
    return view


def held_out_section(d: RegressionData, dtype: str, gamma: float, noise: float,
                     amplitude: float) -> dict[str, np.ndarray]:
    """Section 4: the held-out predictive densities by vmap and by a loop, checked and timed.

    Returns:
      "heldout_log_density" (M,) by vmap and "heldout_log_density_loop" by a loop;
      "heldout_mean" and "heldout_sd" (M,); "heldout_mean_log_density",
      "heldout_max_abs_diff", "heldout_speedup" () loop over vmap, the median of the
      per-round ratios (the two are timed in turn), and "heldout_speedup_interval" (3,)
      (ratio, low, high); "heldout_other_cores" () other processes' CPU meanwhile, in
      cores (NaN: not measured); "heldout_seconds" (2,) the medians of
      vmap and the loop, and "heldout_timing" their records, measured here.

    Raises:
      CoreError: K has no Cholesky factor at the chosen point.
    """
    with dtype_scope(dtype):
        h = held_out(d.X, d.y, d.X_test, d.y_test, gamma, noise, amplitude)
    m = len(h.batched)
    return {"heldout_log_density": h.batched, "heldout_log_density_loop": h.loop,
            "heldout_mean": h.posterior.mean,
            "heldout_sd": np.sqrt(np.maximum(h.posterior.variance, 0.0)),
            "heldout_mean_log_density": np.asarray(h.mean_log_density),
            "heldout_max_abs_diff": np.asarray(h.max_abs_diff),
            "heldout_speedup": np.asarray(h.speedup),
            "heldout_speedup_interval": np.asarray(h.speedup_interval),
            "heldout_other_cores": _other_cores(h.vmap_timing),
            "heldout_seconds": np.asarray([h.vmap_timing.median_s, h.loop_timing.median_s]),
            "heldout_timing": _timing_table([(f"vmap over the {m} held-out points", h.vmap_timing),
                                             (f"loop over the {m} points", h.loop_timing)])}


def fit_view(*, data: str, n: int, noise_sd: float, seed: int, dtype: str, side: int,
             amplitude: float, gamma: float, noise: float, climbed: Mapping[str, float] | None = None,
             upload_path: str | None = None, target: int | None = None,
             timed_surface: bool = False) -> dict[str, np.ndarray]:
    """What the Fit page shows for one setting of its controls.

    Args:
      data, n, noise_sd, seed, dtype, upload_path, target: the data (`fit_data`).
      side: the surface's grid side; amplitude: the amplitude it is drawn at.
      gamma, noise: the chosen point (the fit and the held-out densities are there).
      climbed: the climb the page drew, if the user clicked "Climb": its start (gamma,
        noise, amplitude), most `steps` and `learning_rate`; None: no climb.
      timed_surface: the user pressed "Time the one call against the double loop": time it
        again here (timings are measured where this runs, never copied).

    Returns:
      "X", "y", "X_test", "y_test" the data, and the sections' arrays: the surface
      (`surface_section`), with `timed_surface` its timing (`surface_timing_section`),
      with `climbed` the climb (`climb_section`), for 1-D data the fit on a grid
      (`curve_section`), and the held-out densities (`held_out_section`). Where K has
      no Cholesky factor at the chosen point, the fit and held-out entries are left out
      (with a warning that says why), as the page shows the error instead.
    """
    d = fit_data(data, n, noise_sd, seed, dtype, upload_path, target)
    view = {"X": d.X, "y": d.y, "X_test": d.X_test, "y_test": d.y_test}
    view.update(surface_section(d.X, d.y, dtype, side, amplitude))
    if timed_surface:
        view.update(surface_timing_section(d.X, d.y, dtype, side, amplitude))
    if climbed is not None:
        view.update(climb_section(d.X, d.y, dtype, gamma=climbed["gamma"], noise=climbed["noise"],
                                  amplitude=climbed["amplitude"], steps=climbed["steps"],
                                  learning_rate=climbed["learning_rate"]))
    try:
        if d.X.shape[1] == 1:
            view.update(curve_section(d, dtype, gamma, noise, amplitude))
        view.update(held_out_section(d, dtype, gamma, noise, amplitude))
    except CoreError as err:  # K has no Cholesky factor at the chosen point: so says the page
        warnings.warn(str(err), stacklevel=2)
    return view


def fit_figure(view: dict[str, np.ndarray]):
    """The page's surface: contours of the LML over log10 gamma and log10 noise, the climb on it."""
    import plotly.graph_objects as go

    gx, ny = np.log10(view["gammas"]), np.log10(view["noises"])
    fig = go.Figure(go.Contour(x=gx, y=ny, z=view["lml"].T, colorscale="Viridis", ncontours=30,
                               connectgaps=False, colorbar={"title": "LML"}))
    if "climb" in view:
        fig.add_trace(go.Scatter(x=np.log10(view["climb"][:, 0]), y=np.log10(view["climb"][:, 1]),
                                 mode="lines+markers", name="climb", line={"color": "#ff4b4b"}))
    fig.update_layout(title="Log marginal likelihood over (gamma, noise)",
                      xaxis_title="log10 gamma", yaxis_title="log10 noise variance")
    return fig
