"""The Fit page's view: the LML surface, the climb, the fit and the held-out densities."""

from __future__ import annotations

import warnings
from typing import Mapping

import numpy as np

from core.data.uploads import load_table
from core.errors import CoreError
from core.lessons.fit.climb import climb
from core.lessons.fit.compare import compute_surface, fit_curve, held_out, time_surface
from core.data.regression import RegressionData, load_regression, regression_from_table
from core.precision import dtype_scope

__all__ = ["fit_data", "fit_view", "fit_figure"]

CLIMB_COLUMNS = ("gamma", "noise", "amplitude", "lml", "grad_norm")


def fit_data(data: str, n: int, noise_sd: float, seed: int, dtype: str,
             upload_path: str | None = None, target: int | None = None) -> RegressionData:
    """The page's data with a target: a built-in set, or the user's table (path, 0-based target)."""
    if data == "upload":
        return regression_from_table(load_table(upload_path), target, n, seed, dtype)
    return load_regression(data, n, noise_sd, seed, dtype)


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
      "X", "y", "X_test", "y_test" the data; "gammas" (G,), "noises" (S,) and "lml"
      (G, S) the surface (NaN where K has no Cholesky factor); with `climbed`, "climb"
      (steps + 1, 5): per step the CLIMB_COLUMNS (to where K stopped factoring, if it
      did); for 1-D data "grid" (200,) with the GP's "posterior_mean" and
      "posterior_sd" (a new observation's, noise included) and "krr_mean" kernel ridge
      regression with λ = noise; "heldout_log_density" (M,) by vmap and
      "heldout_log_density_loop" by a loop, "heldout_mean" and "heldout_sd" (M,);
      "heldout_seconds" (2,) the medians of vmap and the loop, measured here. Where K has
      no Cholesky factor at the chosen point, the fit and held-out entries are left out
      (with a warning that says why), as the page shows the error instead. With
      `timed_surface`, "surface_timing": one record per program ("program", "median_s",
      "spread_s", "repeats": the one call by rows, every gamma at once where it fits, the
      double loop on a few rows) and "surface_speedup" (the loop scaled to all cells over
      the one call).
    """
    d = fit_data(data, n, noise_sd, seed, dtype, upload_path, target)
    view = {"X": d.X, "y": d.y, "X_test": d.X_test, "y_test": d.y_test}
    with dtype_scope(dtype):
        surface = compute_surface(d.X, d.y, side, amplitude)
        view.update(gammas=surface.gammas, noises=surface.noises, lml=surface.lml)
        if timed_surface:
            view.update(surface_timing_view(time_surface(d.X, d.y, side, amplitude)))
        if climbed is not None:
            steps = []
            try:
                for s in climb(d.X, d.y, climbed["gamma"], climbed["noise"], climbed["amplitude"],
                               steps=climbed["steps"], learning_rate=climbed["learning_rate"]):
                    steps.append([getattr(s, c) for c in CLIMB_COLUMNS])
            except CoreError:
                pass  # the page stops the climb there too, and says why
            view["climb"] = np.asarray(steps, dtype=np.float64).reshape(-1, len(CLIMB_COLUMNS))
        try:
            if d.X.shape[1] == 1:
                curve = fit_curve(d.X, d.y, gamma, noise, amplitude)
                view.update(grid=curve.grid, posterior_mean=curve.posterior.mean,
                            posterior_sd=np.sqrt(np.maximum(curve.posterior.variance, 0.0)),
                            krr_mean=curve.krr_mean)
            h = held_out(d.X, d.y, d.X_test, d.y_test, gamma, noise, amplitude)
        except CoreError as err:  # K has no Cholesky factor at the chosen point: so says the page
            warnings.warn(str(err), stacklevel=2)
            return view
    view.update(heldout_log_density=h.batched, heldout_log_density_loop=h.loop,
                heldout_mean=h.posterior.mean,
                heldout_sd=np.sqrt(np.maximum(h.posterior.variance, 0.0)),
                heldout_seconds=np.asarray([h.vmap_timing.median_s, h.loop_timing.median_s]))
    return view


def surface_timing_view(t) -> dict[str, np.ndarray]:
    """A `SurfaceTiming` as the page's table: one record per program, and the speedup."""
    rows = [("one jitted call, by rows", t.by_row)]
    if t.all_at_once is not None:
        rows.append(("one jitted call, all at once", t.all_at_once))
    rows.append((f"double loop, {t.loop_cells} cells", t.loop))
    table = np.zeros(len(rows), dtype=[("program", "U40"), ("median_s", "f8"), ("spread_s", "f8"),
                                       ("repeats", "i8")])
    for row, (name, r) in zip(table, rows):
        row["program"], row["median_s"], row["spread_s"], row["repeats"] = (
            name, r.median_s, r.spread_s, r.repeats)
    return {"surface_timing": table, "surface_speedup": np.asarray(t.speedup)}


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
