"""AppTest of the Kernel lab: defaults, every control, and the numbers it shows.

The diagnostics table must show what `core.lessons.gp` computes for the same matrix;
a jitter too small must be explained (with the way out), never a traceback.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.kernels.composite import KernelChoice, kernel_gram
from core.data import load_dataset
from core.lessons.gp import grid_1d, pd_report
from tests.app.conftest import no_exception, open_page, widget

PAGE = "kernels.py"


def _diagnostics(at):
    """The page's two diagnosis tables (eigenvalues, Cholesky) side by side, a row per matrix."""
    spectrum = next(df.value for df in at.dataframe if "smallest eigenvalue" in df.value.columns)
    cholesky = next(df.value for df in at.dataframe if "smallest working jitter" in df.value.columns)
    assert list(spectrum["matrix"]) == list(cholesky["matrix"])
    return pd.concat([spectrum, cholesky.drop(columns="matrix")], axis=1)


def _assert_row_is_core(row, report):
    assert row["N"] == report.n
    assert row["smallest eigenvalue"] == pytest.approx(report.min_eigenvalue, rel=1e-9)
    assert row["condition number"] == pytest.approx(report.condition_number, rel=1e-9)
    assert bool(row["Cholesky, no jitter"]) == report.cholesky_ok
    assert row["smallest working jitter"] == pytest.approx(report.smallest_jitter, rel=1e-9)


def test_defaults_show_cores_diagnostics_and_draws():
    at = open_page(PAGE)
    table = _diagnostics(at)
    assert list(table["matrix"]) == ["1-D grid", "Blobs"]
    rbf = KernelChoice.make("single", "rbf", {"gamma": 1.0})
    grid = pd_report(kernel_gram(rbf, grid_1d(150), dtype="float32"))
    _assert_row_is_core(table.iloc[0], grid)
    # The lesson of the defaults: float32 RBF on a fine grid does not factor without jitter.
    jitter = at.session_state["w_kern_jitter"]
    assert not grid.cholesky_ok and table[f"Cholesky, jitter {jitter:.0e}"].iloc[0]
    X, _ = load_dataset("blobs", n=400, seed=0, noise=0.1, dtype="float32")
    _assert_row_is_core(table.iloc[1], pd_report(kernel_gram(rbf, X, dtype="float32")))
    assert len(at.get("plotly_chart")) == 6  # profile, 2 heatmaps, draws, spectrum, rank
    assert not at.warning


def test_too_small_jitter_is_explained_and_fixed_by_one_click():
    at = open_page(PAGE)
    widget(at, "w_kern_grid_n").set_value(60).run()
    widget(at, "w_kern_jitter").set_value(1e-12).run()
    no_exception(at)
    warning = " ".join(w.value for w in at.warning)
    need = pd_report(kernel_gram(KernelChoice.make("single", "rbf"), grid_1d(60),
                                 dtype="float32")).smallest_jitter
    assert "No draws" in warning and f"{need:.2g}" in warning
    widget(at, "w_kern_fix_jitter").click().run()
    no_exception(at)
    assert not at.warning
    assert at.session_state["w_kern_jitter"] >= need


def test_every_control_runs_and_the_numbers_follow():
    at = open_page(PAGE)
    steps = [
        ("w_kern_grid_n", 40), ("w_kern_draws", 2), ("w_kern_seed", 7),
        ("w_kern_k1_gamma", 10.0), ("w_kern_op", "sum"), ("w_kern_k2", "rational_quadratic"),
        ("w_kern_k2_alpha", 2.0), ("w_kern_op", "product"), ("w_kern_k2", "polynomial"),
        ("w_kern_k2_degree", 2), ("w_kern_k2_coef0", 2.0), ("w_kern_sweep_on", "data"),
        ("w_kern_jitter", 1e-2),
    ]
    for key, value in steps:
        widget(at, key).set_value(value).run()
        no_exception(at)
    choice = KernelChoice.make("product", "rbf", {"gamma": 10.0}, "polynomial",
                               {"degree": 2, "coef0": 2.0})
    _assert_row_is_core(_diagnostics(at).iloc[0],
                        pd_report(kernel_gram(choice, grid_1d(40), dtype="float32")))

    widget(at, "w_kern_use_heuristic").click().run()
    no_exception(at)
    assert at.session_state["w_kern_k1_gamma"] != 10.0  # blobs' heuristic is about 0.1
    # An invalid kernel on 2-D data is called out, not blamed on round-off.
    widget(at, "w_kern_op").set_value("single").run()
    widget(at, "w_kern_k1").set_value("periodic").run()
    no_exception(at)
    assert any("Blobs: K is not positive semi-definite" in w.value for w in at.warning)
    assert list(_diagnostics(at)["indefinite beyond round-off"]) == [False, True]
    # A kernel without gamma: the sweep says why it is missing; float64 from the sidebar.
    widget(at, "w_kern_k1").set_value("linear").run()
    widget(at, "w_kern_k1_c").set_value(1.0).run()
    widget(at, "dtype").set_value("float64").run()
    no_exception(at)
    assert any("no gamma" in i.value for i in at.info)
    linear = KernelChoice.make("single", "linear", {"c": 1.0})
    _assert_row_is_core(_diagnostics(at).iloc[0],
                        pd_report(kernel_gram(linear, grid_1d(40), dtype="float64")))

    # More points than the diagnostics take: a seeded subset, and the page says so.
    widget(at, "n").set_value(600).run()
    no_exception(at)
    assert list(_diagnostics(at)["N"]) == [40, 500]
    assert any("subset of 500 of its 600" in c.value for c in at.caption)


def test_a_kernel_that_overflows_is_explained_not_a_traceback():
    # Polynomial of degree 6 on unstandardized wine (norms ~1.7e3) exceeds float32.
    at = open_page(PAGE, {"dataset": "wine"})
    widget(at, "w_kern_k1").set_value("polynomial").run()
    widget(at, "w_kern_k1_degree").set_value(6).run()
    no_exception(at)
    errors = " ".join(e.value for e in at.error)
    assert "overflows float32" in errors and "Wine's K cannot be diagnosed" in errors
    assert list(_diagnostics(at)["matrix"]) == ["1-D grid"]  # the grid is still diagnosed


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_periodic_draws_work_from_the_start_and_say_the_jitter(dtype):
    # The issue: "Draw GP samples with the periodic kernel" failed at jitter 1e-5.
    # The jitter now starts at the smallest grid value >= core's smallest_jitter.
    at = open_page(PAGE, {"dtype": dtype})
    widget(at, "w_kern_k1").set_value("periodic").run()
    no_exception(at)
    assert not any("No draws" in w.value for w in at.warning)
    periodic = KernelChoice.make("single", "periodic")
    need = pd_report(kernel_gram(periodic, grid_1d(150), dtype=dtype)).smallest_jitter
    jitter = at.session_state["w_kern_jitter"]
    # The slider's grid is half-decades from 1e-12: the next value down would not work.
    assert jitter >= need and (jitter == 1e-12 or jitter < need * 10 ** 0.5 * 1.01)
    caption = next(c.value for c in at.caption if c.value.startswith("Added to the diagonal"))
    assert f"jitter {jitter:.2g}" in caption
    assert "without any" in caption if need == 0 else f"{need:.2g}" in caption


def test_a_jitter_the_user_chose_is_kept():
    at = open_page(PAGE)
    widget(at, "w_kern_jitter").set_value(1e-2).run()
    widget(at, "w_kern_draws").set_value(3).run()
    no_exception(at)
    assert at.session_state["w_kern_jitter"] == 1e-2


def test_diagnosis_table_shows_a_dash_for_missing_values_and_the_sidebar_says_what_applies():
    at = open_page("kernels.py")
    assert not at.exception
    # Streamlit shows a missing value (no working jitter) as "None" unless a placeholder is set.
    table = next(df for df in at.dataframe if "smallest working jitter" in df.value.columns)
    assert table.proto.placeholder == "—"
    assert all(df.proto.placeholder == "—" for df in at.dataframe)
    assert any("sidebar's Kernel, gamma and batching method do not apply" in c.value
               for c in at.sidebar.caption)


def _close(shown, expected, err_msg: str = "") -> None:
    """float32 tolerance: the page and the test run the same code on the same values."""
    np.testing.assert_allclose(np.asarray(shown, dtype=float), np.asarray(expected, dtype=float),
                               rtol=1e-5, atol=1e-7, equal_nan=True, err_msg=err_msg)


def _titles(fig) -> tuple[str, str, str]:
    layout = fig["layout"]
    return tuple(str(t.get("text", "")) if isinstance(t, dict) else str(t or "")
                 for t in (layout["title"], layout["xaxis"].get("title"),
                           layout["yaxis"].get("title")))


def test_figures_and_tables_draw_the_views_arrays():
    """At the defaults (Blobs, N = 400, float32, RBF gamma 1, a 150-point grid, 5 draws),
    every figure and table holds what `kernel_lab_view` returns for the same settings, on
    axes that name what is drawn and cover it."""
    from core.views.kernels import kernel_lab_view
    from tests.app.conftest import plotly_figures
    from tests.app.figures import assert_heatmap_shows

    at = open_page(PAGE)
    X, y = load_dataset("blobs", n=400, seed=0, noise=0.1, dtype="float32")
    jitter = at.session_state["w_kern_jitter"]
    view = kernel_lab_view(X, y, op="single", k1="rbf", p1={"gamma": 1.0}, k2="rbf", p2={},
                           dtype="float32", n_grid=150, draws=5, seed=0, jitter=jitter)
    figures = plotly_figures(at)

    profile = figures["w_kern_profile"]
    _close(profile["data"][0]["x"], view["profile_x"])
    _close(profile["data"][0]["y"], view["profile_k"])
    assert _titles(profile)[1:] == ("distance r = |x − y| (data units)", "kernel value k (unitless)")
    assert all("range" not in profile["layout"][a] for a in ("xaxis", "yaxis"))  # fitted to the data

    assert_heatmap_shows(figures["w_kern_grid_heatmap"], view["K_grid"], atol=1e-7)
    order = view["data_order"]
    np.testing.assert_array_equal(order, np.argsort(y, kind="stable"))
    assert_heatmap_shows(figures["w_kern_data_heatmap"], view["K_data"][np.ix_(order, order)],
                         atol=1e-6)
    assert _titles(figures["w_kern_data_heatmap"])[0] == "K on Blobs (N = 400)"

    samples = figures["w_kern_samples"]
    band, *lines = samples["data"]
    x = view["grid_x"]
    _close(band["x"], np.concatenate([x, x[::-1]]))
    _close(band["y"], np.concatenate([2 * view["prior_sd"], -2 * view["prior_sd"][::-1]]))
    assert [t["name"] for t in lines] == [f"draw {j + 1}" for j in range(5)]
    for j, line in enumerate(lines):
        _close(line["x"], x)
        _close(line["y"], view["samples"][:, j], f"draw {j + 1}")
    assert _titles(samples)[1:] == ("x (grid, data units)", "f(x) (prior draw, unitless)")

    table = _diagnostics(at)
    assert list(table["matrix"]) == ["1-D grid", "Blobs"]
    assert list(view["diagnosed"]) == ["grid", "data"]
    np.testing.assert_array_equal(table["N"], view["diagnosis_n"])
    for column, field in (("smallest eigenvalue", "min_eigenvalue"),
                          ("condition number", "condition_number"),
                          ("smallest working jitter", "smallest_jitter")):
        np.testing.assert_allclose(table[column], view[f"diagnosis_{field}"], rtol=1e-9,
                                   err_msg=column)
    for column, field in (("indefinite beyond round-off", "beyond_roundoff"),
                          ("Cholesky, no jitter", "cholesky_ok"),
                          (f"Cholesky, jitter {jitter:.0e}", "cholesky_with_jitter")):
        assert list(table[column]) == list(view[f"diagnosis_{field}"]), column

    gammas, eigenvalues = view["sweep_gammas"], view["sweep_eigenvalues"]
    heatmap = figures["w_kern_sweep_heatmap"]["data"][0]
    _close(heatmap["x"], np.log10(gammas))
    np.testing.assert_array_equal(heatmap["y"], np.arange(1, eigenvalues.shape[1] + 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        _close(heatmap["z"], np.where(eigenvalues > 0, np.log10(eigenvalues), np.nan).T)
    assert _titles(figures["w_kern_sweep_heatmap"]) == (
        "Eigenvalues of K on the 1-D grid against gamma", "log₁₀ gamma (gamma in 1/data units²)",
        "eigenvalue index k (descending)")
    rank = figures["w_kern_rank_chart"]
    _close(rank["data"][0]["x"], gammas)
    _close(rank["data"][0]["y"], view["sweep_effective_rank"])
    low, high = rank["layout"]["yaxis"]["range"]
    assert low <= view["sweep_effective_rank"].min() and view["sweep_effective_rank"].max() <= high
    assert rank["layout"]["xaxis"]["type"] == "log" and "range" not in rank["layout"]["xaxis"]
    assert _titles(rank)[1:] == ("gamma (1/data units², log scale)",
                                 "effective rank (number of eigenvalues)")
