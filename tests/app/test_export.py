""""Reproduce in Python": each exported program, run alone, gives the page's own numbers.

Each export is built exactly as the page's buttons build it (from the arguments the
page handed `ui.export.reproduce_control`), written to a temporary folder outside the
repository and run there as `python -I page.py --save DIR` with no PYTHONPATH: an
import of the app's code would fail. Its arrays are compared with what the page drew
(the live heatmap's payload, the Plotly figures' data), to the dtype's tolerance.
One notebook is executed top to bottom with nbclient, in this interpreter's kernel.
"""

from __future__ import annotations

import ast
import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core.export import ALLOWED_PACKAGES, import_roots
from core.lessons.predict import init_params, predict_vmap_in_axes
from core.precision import dtype_scope
from core.views.data import builtin_data
from tests.app.conftest import metric, no_exception, open_page, plotly_figures, widget
from tests.conftest import TOL
from ui.components.live_heatmap import decode_exact
from core.views.gram import gram_view
from ui.export import data_source, export_files, gram_settings

RUN_TIMEOUT_S = 600


def exported(at, page: str) -> tuple[str, str]:
    """The two downloads the page offers now: (<page>.py, <page>.ipynb)."""
    return export_files(page, *at.session_state[f"_export_{page}"])


def assert_standalone(script: str) -> None:
    """The program imports only the allowed packages and the standard library."""
    roots = import_roots(script) - {"__future__"}
    assert not roots & {"core", "ui", "app_pages", "app", "streamlit"}, roots
    assert roots <= ALLOWED_PACKAGES | set(sys.stdlib_module_names), roots - ALLOWED_PACKAGES
    ast.parse(script)


def run_alone(script: str, page: str, tmp_path: Path) -> dict[str, np.ndarray]:
    """Run the program outside the repository, isolated; the arrays it saved, by name."""
    assert_standalone(script)
    (tmp_path / f"{page}.py").write_text(script, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([sys.executable, "-I", f"{page}.py", "--save", "out"], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    assert done.returncode == 0, done.stderr[-3000:]
    return {p.stem: np.load(p, allow_pickle=False) for p in (tmp_path / "out").glob("*.npy")}


def close(got: np.ndarray, want: np.ndarray, dtype: str, scale: float = 1.0) -> None:
    np.testing.assert_allclose(got, want, rtol=TOL[dtype] * 10, atol=TOL[dtype] * 10 * scale)


# --- Gram explorer ------------------------------------------------------------------------

def _gram_shown(at) -> np.ndarray:
    """The K the page draws, display order: the live heatmap's exact K, or the Plotly one."""
    payloads = {el.key: el.proto.bytes for el in at.get("bidi_component")}
    if "w_gram_live_exact" in payloads:
        return decode_exact(payloads["w_gram_live_exact"])["K"]
    return np.asarray(plotly_figures(at)["w_gram_heatmap"]["data"][0]["z"])


def test_gram_export_reproduces_the_default_view(tmp_path):
    at = open_page("gram.py", {"n": "120", "dataset": "moons"})
    script, notebook = exported(at, "gram")
    view = run_alone(script, "gram", tmp_path)
    order = view["order"]
    np.testing.assert_array_equal(view["order"], np.argsort(view["y"], kind="stable"))
    close(view["K"][np.ix_(order, order)], _gram_shown(at), "float32")
    assert view["K"].dtype == np.float32 and view["K"].shape == (120, 120)
    # The page's "Download K as .npy" holds K in the data's order: the same file.
    assert set(view) >= {"K", "sqdist", "order", "X", "y", "eigenvalues"}
    nb = json.loads(notebook)
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    sources = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    assert "\n\n".join(sources).count("def gram_view(") == 1


@pytest.mark.slow
def test_gram_export_of_a_changed_view_pools_like_the_screen(tmp_path):
    at = open_page("gram.py", {"n": "600", "dataset": "digits", "dtype": "float64",
                               "kernel": "polynomial"})
    no_exception(at)
    view = run_alone(exported(at, "gram")[0], "gram", tmp_path)
    assert view["K"].dtype == np.float64 and view["K"].shape == (600, 600)
    # Above the display side the screen shows block means: so does the export, as K_pooled.
    assert view["K_pooled"].shape[0] < 600
    close(view["K_pooled"], _gram_shown(at), "float64", scale=float(np.max(np.abs(view["K"]))))


def test_gram_export_of_an_upload_reads_the_file_the_user_names_and_gives_the_pages_K(tmp_path):
    from core.data import load_table
    from ui.state.cache import load_data
    from ui.state.settings import UPLOAD, Settings, Upload

    rows = np.random.default_rng(3).normal(size=(90, 3)).round(4)
    csv = tmp_path / "mine.csv"
    csv.write_text("a,b,c\n" + "\n".join(",".join(map(str, r)) for r in rows) + "\n")
    table = load_table(str(csv))  # what the sidebar does with an uploaded file
    settings = Settings(dataset=UPLOAD, n=60, noise=0.1, seed=5, dtype="float32", kernel="rbf",
                        gamma=0.3, kernel_params={}, method="jit_method1",
                        upload=Upload("mine.csv", "sha", table))
    data = load_data(settings)  # the page's data: a seeded sample of 60 of the 90 rows
    script, _ = export_files("gram", data_source(settings), gram_settings(settings, 60, 3, True))
    assert "DATA_PATH = 'mine.csv'" in script and "90 rows x 3 columns" in script  # name, shape
    script = script.replace("DATA_PATH = 'mine.csv'", f"DATA_PATH = {str(csv)!r}")  # the user's edit
    (tmp_path / "run").mkdir()
    view = run_alone(script, "gram", tmp_path / "run")
    want = gram_view(data.X, None, **gram_settings(settings, 60, 3, True))
    np.testing.assert_array_equal(view["X"], data.X)
    close(view["K"], want["K"], "float32")


@pytest.mark.slow
def test_gram_export_has_the_spectrum_the_user_asked_for_above_500_points(tmp_path):
    at = open_page("gram.py", {"n": "520", "dataset": "blobs"})
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    assert "eigenvalues" not in run_alone(exported(at, "gram")[0], "gram", tmp_path / "a")
    next(b for b in at.button if b.key == "w_gram_spectrum").click().run()
    no_exception(at)
    view = run_alone(exported(at, "gram")[0], "gram", tmp_path / "b")
    drawn = np.concatenate([np.asarray(t["customdata"]).ravel()
                            for t in plotly_figures(at)["w_gram_spec"]["data"]])
    np.testing.assert_allclose(np.sort(view["eigenvalues"]), np.sort(drawn), atol=1e-4)


def test_the_gram_notebook_runs_top_to_bottom_and_draws_the_figure(tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    at = open_page("gram.py", {"n": "60", "dataset": "blobs"})
    nb = nbformat.reads(exported(at, "gram")[1], as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("np.save('K.npy', view['K'][np.ix_(view['order'], "
                                              "view['order'])])"))
    monkeypatch.delenv("PYTHONPATH", raising=False)
    # kernel_name "python3": ipykernel's own spec, which runs this interpreter; nothing registered.
    nbclient.NotebookClient(nb, timeout=RUN_TIMEOUT_S, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert any("application/vnd.plotly.v1+json" in o.get("data", {}) for o in outputs)
    close(np.load(tmp_path / "K.npy"), _gram_shown(at), "float32")


# Every other page's notebook, at a small default view: the same cells run in a Jupyter
# kernel, without an error, and draw the page's figure (the scripts' numbers are checked above).
NOTEBOOK_VIEWS = {"overview": {"n": "60"}, "race": {"n": "60"}, "anatomy": {"n": "60"},
                  "further": {"n": "60"}, "gradients": {"n": "60"}, "precision": {},
                  "kernels": {"n": "60"}, "workbench": {"n": "60"}, "fit": {}, "scale": {}}


@pytest.mark.slow
@pytest.mark.parametrize("page", list(NOTEBOOK_VIEWS))
def test_every_pages_notebook_runs_top_to_bottom_and_draws_its_figure(page, tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    at = open_page(f"{page}.py", NOTEBOOK_VIEWS[page])
    nb = nbformat.reads(exported(at, page)[1], as_version=4)
    monkeypatch.delenv("PYTHONPATH", raising=False)
    nbclient.NotebookClient(nb, timeout=RUN_TIMEOUT_S, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"], page
    assert any("application/vnd.plotly.v1+json" in o.get("data", {}) for o in outputs), page


# --- Kernel lab ---------------------------------------------------------------------------

def _lab_shown(at) -> dict[str, np.ndarray]:
    figures = plotly_figures(at)
    draws = [t for t in figures["w_kern_samples"]["data"] if str(t.get("name", "")).startswith("draw")]
    return {"K_grid": np.asarray(figures["w_kern_grid_heatmap"]["data"][0]["z"]),
            "profile_k": np.asarray(figures["w_kern_profile"]["data"][0]["y"]),
            "samples": np.column_stack([np.asarray(t["y"]) for t in draws]) if draws else None}


def _check_lab(at, tmp_path, dtype: str) -> None:
    view = run_alone(exported(at, "kernels")[0], "kernels", tmp_path)
    shown = _lab_shown(at)
    close(view["K_grid"], shown["K_grid"], dtype)
    close(view["profile_k"], shown["profile_k"], dtype)
    if shown["samples"] is not None:
        close(view["samples"], shown["samples"], dtype, scale=10.0)
    assert view["sweep_eigenvalues"].shape[0] == view["sweep_gammas"].shape[0]


def test_kernel_lab_export_reproduces_the_default_view(tmp_path):
    at = open_page("kernels.py", {"n": "100"})
    _check_lab(at, tmp_path, "float32")


@pytest.mark.slow
def test_kernel_lab_export_of_a_sum_in_float64(tmp_path):
    at = open_page("kernels.py", {"n": "80", "dtype": "float64"})
    for key, value in (("w_kern_grid_n", 60), ("w_kern_op", "sum"), ("w_kern_k2", "periodic"),
                       ("w_kern_draws", 3), ("w_kern_seed", 7)):
        widget(at, key).set_value(value).run()
        no_exception(at)
    _check_lab(at, tmp_path, "float64")


# --- Workbench ----------------------------------------------------------------------------

def _workbench_check(at, tmp_path, dtype: str) -> dict[str, np.ndarray]:
    script = exported(at, "workbench")[0]
    assert "import jax.numpy as np" in script and "check_source" in script
    view = run_alone(script, "workbench", tmp_path)
    shown = decode_exact({el.key: el.proto.bytes for el in at.get("bidi_component")}
                         ["w_wb_live_exact"])["K"]
    close(view["K"], shown, dtype)
    for other in ("K_method_two", "K_pair_list"):
        close(view[other], view["K"], dtype)
    return view


def test_workbench_export_runs_the_users_kernel_as_python(tmp_path):
    at = open_page("workbench.py", {"n": "120", "dataset": "moons"})
    view = _workbench_check(at, tmp_path, "float32")
    assert view["frames"].shape[0] == view["frame_gammas"].shape[0] == 64
    # Timings measured anew where the program ran: the page's programs, by label and shape only.
    shown = next(df.value for df in at.dataframe if "program" in df.value.columns)
    assert list(view["timings"]["program"]) == list(shown["program"])
    assert np.all(view["timings"]["median_s"] > 0) and np.all(view["timings"]["repeats"] >= 3)
    assert (tmp_path / "out" / "timings.csv").read_text().splitlines()[0].startswith("program,")


@pytest.mark.slow
def test_workbench_export_of_an_own_parameter_kernel(tmp_path):
    source = ("def kernel(params, x, y):\n"
              "    d = np.sqrt(np.sum((x - y) ** 2) + 1e-12)\n"
              "    return np.exp(-params['gamma'] * d) * params['scale']\n")
    at = open_page("workbench.py", {"n": "90", "dataset": "iris", "source": source,
                                    "wb_scale": "2"})
    no_exception(at)
    _workbench_check(at, tmp_path, "float32")


# --- Overview -----------------------------------------------------------------------------

def _check_overview(at, tmp_path, dtype: str) -> dict[str, np.ndarray]:
    view = run_alone(exported(at, "overview")[0], "overview", tmp_path)
    np.testing.assert_array_equal(view["ladder_shapes"], at.dataframe[0].value["output shape"])
    np.testing.assert_array_equal(view["ladder_calls"], at.dataframe[0].value["call"])
    # The scatter's points, put back in row order from each trace's point indices.
    Z = np.full_like(view["Z"], np.nan)
    for trace in plotly_figures(at)["w_overview_scatter"]["data"]:
        Z[np.asarray(trace["customdata"])] = np.column_stack([trace["x"], trace["y"]])
    close(view["Z"], Z, dtype, scale=float(np.max(np.abs(Z))))
    return view


def test_overview_export_reproduces_the_default_view(tmp_path):
    at = open_page("overview.py", {"n": "120", "dataset": "moons"})
    view = _check_overview(at, tmp_path, "float32")
    assert list(view["ladder_shapes"]) == ["() scalar", "(120,)", "() scalar", "(120,)",
                                           "(120, 120)"]
    assert view["Z"].shape == (120, 2) and view["y"].shape == (120,)


@pytest.mark.slow
def test_overview_export_of_iris_in_float64_projects_like_the_screen(tmp_path):
    at = open_page("overview.py", {"dataset": "iris", "dtype": "float64", "seed": "3"})
    view = _check_overview(at, tmp_path, "float64")
    assert view["Z"].shape == (150, 2) and view["explained"][0] > view["explained"][1]


# --- vmap anatomy -------------------------------------------------------------------------

def _check_anatomy(at, tmp_path, dtype: str) -> dict[str, np.ndarray]:
    view = run_alone(exported(at, "anatomy")[0], "anatomy", tmp_path)
    forms = list(at.table[0].value["form"])
    # The four forms: the page's labels, equal outputs; timings re-measured, so by labels only.
    assert list(view["predict_forms"]) == forms == list(view["predict_timings"]["form"])
    assert (tmp_path / "out" / "predict_timings.csv").read_text().startswith("form,first_call_s")
    source = at.session_state["_export_anatomy"][0]  # the page's data, loaded as core loads it
    X, _ = builtin_data(source.dataset, source.n, source.seed, source.noise, source.dtype)
    with dtype_scope(dtype):
        want = np.asarray(predict_vmap_in_axes(init_params(X.shape[1], source.seed, X.dtype.type), X))
    for output in view["predict_outputs"]:
        close(output, want, dtype)
    late = {t["name"]: np.asarray(t["y"]) for t in plotly_figures(at)["w_anatomy_late_chart"]["data"]}
    for key, name in (("late_before", "before (partial = lambda)"), ("late_partial_after", "partial, after"),
                      ("late_lambda_after", "lambda, after"),
                      ("late_new_params_reference", "predict with the new params")):
        close(view[key], late[name], dtype)
    shown = list(at.dataframe[-1].value["max |Δ| to @"])  # the vv -> mv -> mm table
    assert len(shown) == view["matmul_max_abs_diff"].shape[0] == 4
    return view


def test_anatomy_export_reproduces_the_default_view(tmp_path):
    at = open_page("anatomy.py", {"n": "120", "dataset": "moons"})
    view = _check_anatomy(at, tmp_path, "float32")
    assert view["predict_outputs"].shape == (4, 120)
    # The playground's default, a: (5, 3) mapped on 0, b: (3,) shared: the page's shape.
    shape = tuple(int(s) for s in view["playground_shape"])
    assert any(s.value == f"Output shape: {shape}" for s in at.success) and shape == (5,)
    assert view["playground_rank_notes"].shape == (0,)


@pytest.mark.slow
def test_anatomy_export_of_a_refused_in_axes_saves_jaxs_message(tmp_path):
    at = open_page("anatomy.py", {"n": "90", "dataset": "iris", "dtype": "float64", "seed": "4"})
    widget(at, "w_anatomy_in_a").set_value(0).run()
    widget(at, "w_anatomy_in_b").set_value(0).run()
    no_exception(at)
    view = _check_anatomy(at, tmp_path, "float64")
    assert view["predict_outputs"].dtype == np.float64
    error = str(view["playground_error"])
    assert view["playground_error"].shape == () and "inconsistent sizes" in error
    assert any(e.value == f"JAX refused: {error}" for e in at.error)


# --- Gradients ----------------------------------------------------------------------------

def _check_gradients(at, tmp_path, dtype: str) -> dict[str, np.ndarray]:
    view = run_alone(exported(at, "gradients")[0], "gradients", tmp_path)
    figures = plotly_figures(at)
    for part in ("dw", "db"):  # vmap(grad) and the loop of grad: equal to round-off
        close(view[f"grads_vmap_{part}"], view[f"grads_loop_{part}"], dtype, scale=10.0)
    norms = figures["w_grad_norm_chart"]["data"][0]["customdata"][:, 1]
    close(view["grad_norms"], norms, dtype, scale=float(np.max(norms)))
    assert list(view["grad_timings"]["variant"]) == ["loop of grad", "vmap(grad)",
                                                     "loop of jit(grad)", "jit(vmap(grad))"]
    value, slope = figures["w_grad_summary_chart"]["data"][0], figures["w_grad_derivative_chart"]["data"]
    close(view["curve_gammas"], value["x"], dtype, scale=float(np.max(value["x"])))
    close(view["curve_values"], value["y"], dtype)
    scale = float(np.max(np.abs(slope[0]["y"])))
    close(view["curve_derivative"], slope[0]["y"], dtype, scale=scale)
    close(view["curve_finite_difference"], slope[1]["y"], dtype, scale=scale)
    field = figures["w_grad_field_chart"]["data"]
    close(view["field_surface"], field[0]["z"], dtype)
    arrows = next(t for t in field if t.get("name") == "gradient")
    close(view["field_points"], np.column_stack([arrows["x"], arrows["y"]]), dtype,
          scale=float(np.max(np.abs(view["field_points"]))))
    close(view["field_gradients"], arrows["customdata"][:, :2], dtype,
          scale=float(np.max(np.abs(view["field_gradients"]))))
    star = next(t for t in field if t.get("name") == "centre c")
    close(view["field_center"], [star["x"][0], star["y"][0]], dtype)
    return view


def test_gradients_export_reproduces_the_default_view(tmp_path):
    at = open_page("gradients.py", {"n": "120", "dataset": "moons"})
    view = _check_gradients(at, tmp_path, "float32")
    assert view["grads_vmap_dw"].shape == (100, 2) and view["grad_norms"].shape == (120,)


@pytest.mark.slow
def test_gradients_export_of_a_moved_centre_in_float64(tmp_path):
    at = open_page("gradients.py", {"n": "150", "dataset": "circles", "dtype": "float64",
                                    "kernel": "matern52"})
    widget(at, "w_grad_loop_rows").set_value(50).run()
    widget(at, "w_grad_center").set_value(7).run()
    no_exception(at)
    view = _check_gradients(at, tmp_path, "float64")
    assert view["grads_loop_dw"].shape == (50, 2) and view["field_gradients"].dtype == np.float64


# --- Precision lab ------------------------------------------------------------------------

def _check_precision(at, tmp_path, dtype: str, metric: str = "K") -> dict[str, np.ndarray]:
    from core.dense.methods import METHODS
    from core.scale.pooling import MAX_POOLED_SIDE, pool_mean

    script = exported(at, "precision")[0]
    # The fast NumPy methods come along with the registry: the header says what they need.
    assert "threadpoolctl" in next(line for line in script.splitlines() if "It needs only" in line)
    view = run_alone(script, "precision", tmp_path)
    table = next(df.value for df in at.dataframe if "max |ΔK|" in df.value.columns)
    assert [METHODS[m].label for m in view["methods"]] == list(table["method"])
    np.testing.assert_array_equal(view["negatives"], table["d² < 0 before clipping"])
    for column, key in (("max |ΔK|", "k_max_error"), ("median |ΔK|", "k_median_error"),
                        ("max |Δd²|", "d2_max_error"), ("median |Δd²|", "d2_median_error"),
                        ("max |Kᵢᵢ − 1|", "diagonal_deviation")):
        close(view[key], table[column].to_numpy(dtype=float), dtype)
    figures = plotly_figures(at)
    floor = float(np.finfo(dtype).eps) / 100
    for method, error in zip(view["methods"], view["k_abs_error"]):
        want = pool_mean(np.log10(np.maximum(error, floor)), MAX_POOLED_SIDE)[0]
        close(want, figures[f"w_prec_heat_{method}"]["data"][0]["z"], "float32")
    sweep = {t["name"]: np.asarray(t["customdata"]) for t in figures["w_prec_sweep_chart"]["data"]
             if "customdata" in t}
    key = "sweep_k_max_error" if metric == "K" else "sweep_d2_max_error"
    for method, errors in zip(view["methods"], view[key]):
        close(errors, sweep[METHODS[method].label], dtype)
    return view


def test_precision_export_reproduces_the_default_view(tmp_path):
    at = open_page("precision.py")
    view = _check_precision(at, tmp_path, "float32")
    assert view["X"].shape == (200, 5) and view["sweep_k_max_error"].shape == (6, 13)
    assert "matmul_effect" not in view


@pytest.mark.slow
def test_precision_export_of_float64_far_out_with_highest_matmul(tmp_path):
    at = open_page("precision.py", {"seed": "5"})
    for key, value in (("w_prec_n", 100), ("w_prec_d", 3), ("w_prec_dtype", "float64"),
                       ("w_prec_offset", 10000.0), ("w_prec_sweep_metric", "d²"),
                       ("w_prec_methods", ["jit_expansion", "jit_centered", "numpy_tiled"]),
                       ("w_prec_matmul_highest", True)):
        widget(at, key).set_value(value).run()
        no_exception(at)
    view = _check_precision(at, tmp_path, "float64", metric="d²")
    assert view["X"].dtype == np.float64 and view["X"].shape == (100, 3)
    shown = next(df.value for df in at.dataframe if "max |K(highest) − K(default)|" in df.value.columns)
    close(view["matmul_effect"], shown["max |K(highest) − K(default)|"].to_numpy(dtype=float), "float64")


# --- Scale --------------------------------------------------------------------------------

def _check_scale(at, tmp_path, dtype: str) -> dict[str, np.ndarray]:
    script = exported(at, "scale")[0]
    assert "split_cpu_into_devices()" in script  # XLA_FLAGS asked for before JAX starts
    assert script.index("split_cpu_into_devices()") < script.index("import jax")
    view = run_alone(script, "scale", tmp_path)
    figures = plotly_figures(at)
    close(view["pooled"], np.asarray(figures["w_scale_heatmap"]["data"][0]["z"]), dtype)
    # The profile draws one point a row, or the mean of each bucket of rows above 1,500 rows.
    line = figures["w_scale_profile"]["data"][-1]
    starts = np.asarray(line["x"], dtype=np.intp)
    means = np.add.reduceat(view["row_sums"], starts) / np.diff(np.append(starts, view["row_sums"].size))
    np.testing.assert_allclose(means, np.asarray(line["y"]), rtol=TOL[dtype] * 10)
    return view


def test_scale_export_reproduces_the_computed_view(tmp_path):
    at = open_page("scale.py")
    widget(at, "w_scale_n").set_value(1000).run()
    no_exception(at)
    script = exported(at, "scale")[0]
    assert "'computed': False" in script  # before the click the page shows no result
    widget(at, "w_scale_compute").click().run()
    no_exception(at)
    view = _check_scale(at, tmp_path, "float32")
    # Pooled to at most MAX_POOLED_SIDE cells a side, as on screen, whatever N.
    assert view["row_sums"].shape == (1000,) and view["pooled"].shape == (334, 334)
    assert view["pool_factor"] == 3


@pytest.mark.slow
def test_scale_export_of_a_changed_view_in_float64(tmp_path):
    at = open_page("scale.py", {"dtype": "float64"})
    for key, value in (("w_scale_n", 2000), ("w_scale_kind", "uniform"), ("w_scale_d", 3),
                       ("w_scale_seed", 5), ("w_scale_gamma", 3.0), ("w_scale_rows", 128)):
        widget(at, key).set_value(value).run()
        no_exception(at)
    widget(at, "w_scale_compute").click().run()
    no_exception(at)
    view = _check_scale(at, tmp_path, "float64")
    assert view["row_sums"].dtype == np.float64 and view["pool_factor"] == 5


# --- Fit ----------------------------------------------------------------------------------

def _check_fit(at, tmp_path, dtype: str) -> dict[str, np.ndarray]:
    view = run_alone(exported(at, "fit")[0], "fit", tmp_path)
    figures = plotly_figures(at)
    surface = figures["fit_surface"]["data"]
    contour = next(t for t in surface if t["type"] == "contour")
    close(view["lml"].T, np.asarray(contour["z"], dtype=float), dtype, scale=float(np.nanmax(np.abs(view["lml"]))))
    climb = next((t for t in surface if t.get("name") == "climb"), None)
    if climb is None:
        assert "climb" not in view
    else:  # the path drawn on the surface, in log10 (gamma, noise)
        close(np.log10(view["climb"][:, :2]), np.column_stack([climb["x"], climb["y"]]), dtype)
    if "fit_fit_chart" in figures:
        traces = {t.get("name"): t for t in figures["fit_krr_chart"]["data"]}
        close(view["posterior_mean"], np.asarray(traces["posterior mean"]["y"]), dtype)
        close(view["krr_mean"], np.asarray(traces["kernel ridge mean"]["y"]), dtype)
        band = np.asarray(traces["± 2 sd, new observation"]["y"])  # mean + 2 sd, then back
        close(view["posterior_mean"] + 2 * view["posterior_sd"], band[:view["grid"].size], dtype)
    held = next(t for t in figures["fit_heldout_chart"]["data"] if t.get("name") == "held-out point")
    close(view["heldout_mean"], np.asarray(held["y"]), dtype)
    close(2 * view["heldout_sd"], np.asarray(held["error_y"]["array"]), dtype)
    close(view["heldout_log_density"], view["heldout_log_density_loop"], dtype, scale=100.0)
    assert view["heldout_seconds"].shape == (2,)  # measured on this machine: shape only
    return view


def test_fit_export_reproduces_the_view_after_a_climb(tmp_path):
    at = open_page("fit.py", {"fit_n": "50", "fit_side": "16", "fit_steps": "25",
                              "fit_gamma": "0.01", "fit_noise": "1"})
    widget(at, "fit_climb_button").click().run()
    no_exception(at)
    view = _check_fit(at, tmp_path, "float64")
    assert view["lml"].shape == (16, 16) and view["climb"].shape[1] == 5
    assert view["climb"][-1, 3] > view["climb"][0, 3]  # the LML went up
    assert "surface_timing" not in view
    widget(at, "fit_time_surface").click().run()  # the page's timing: measured anew in the export
    no_exception(at)
    (tmp_path / "timed").mkdir()
    timed = run_alone(exported(at, "fit")[0], "fit", tmp_path / "timed")
    programs = list(timed["surface_timing"]["program"])
    assert programs[0].startswith("one jitted call") and programs[-1].startswith("double loop")
    assert np.all(timed["surface_timing"]["median_s"] > 0) and np.isfinite(timed["surface_speedup"])


@pytest.mark.slow
def test_fit_export_of_the_2d_wave_in_float32_without_a_climb(tmp_path):
    at = open_page("fit.py", {"fit_data": "2-D wave", "fit_dtype": "float32", "fit_n": "100",
                              "fit_seed": "3", "fit_amp": "2"})
    no_exception(at)
    view = _check_fit(at, tmp_path, "float32")
    assert view["lml"].shape == (64, 64) and "grid" not in view and "climb" not in view


# --- Batching race ------------------------------------------------------------------------

def _race_small(at, methods: list[str]) -> None:
    for key, value in (("w_race_methods", methods), ("w_race_repeats", 1), ("w_race_budget", 0.1)):
        widget(at, key).set_value(value)
    at.run()
    no_exception(at)


def _check_race(at, tmp_path, dtype: str, prefix: str = "race",
                view: dict[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    view = view or run_alone(exported(at, "race")[0], "race", tmp_path)
    shown = at.session_state["_race_result" if prefix == "race" else "_race_scaling"]
    # "auto" is raced by the method it picked (once), as the exported file says.
    want = {(r.n, r.picked or r.method): r for r in shown["rows"]}
    got = list(zip(view[f"{prefix}_n"].tolist(), view[f"{prefix}_method"].tolist()))
    assert got == list(want), (got, list(want))
    assert view[f"{prefix}_status"].tolist() == [r.status for r in want.values()]
    # The agreement with float64 is the page's (same data, same arithmetic) ...
    errors = [np.nan if r.max_abs_error is None else r.max_abs_error for r in want.values()]
    close(view[f"{prefix}_max_abs_error"], np.asarray(errors), dtype)
    # ... the times are this machine's: compared by shape and by which methods have them.
    for column in ("median_s", "compile_s", "spread_s", "first_call_s", "speedup"):
        assert view[f"{prefix}_{column}"].shape == (len(want),)
    ok = view[f"{prefix}_status"] == "ok"
    assert (view[f"{prefix}_median_s"][ok] > 0).all() and np.isnan(view[f"{prefix}_median_s"][~ok]).all()
    # The CSV beside the arrays has the page's download's columns, one row a method.
    text = (tmp_path / "out" / f"{prefix if prefix == 'race' else 'scaling'}.csv").read_text()
    records = list(csv.DictReader(io.StringIO(text)))
    page_records = list(csv.DictReader(io.StringIO(shown["csv"])))
    assert list(records[0]) == list(page_records[0])
    assert [r["method"] for r in records] == [m for _, m in want]
    assert not (tmp_path / "out" / f"{prefix}_csv.npy").exists()
    return view


def test_race_export_reruns_the_race_the_user_ran(tmp_path):
    at = open_page("race.py", {"n": "120", "dataset": "moons"})
    assert "'race_run': None" in exported(at, "race")[0]  # nothing timed before the click
    _race_small(at, ["map_stack", "jit_method1", "auto", "scipy_cdist", "python_loop"])
    widget(at, "w_race_run").click().run()
    no_exception(at)
    script = exported(at, "race")[0]
    assert "threadpoolctl" in script.split("# %%")[1]  # the header names it as a requirement
    assert "\"auto\" ran" in script
    _check_race(at, tmp_path, "float32")


@pytest.mark.slow
def test_race_export_of_a_float64_race_and_a_scaling_run(tmp_path):
    at = open_page("race.py", {"n": "200", "dataset": "iris", "dtype": "float64"})
    _race_small(at, ["map_stack", "vmap_nojit", "jit_centered", "sklearn"])
    widget(at, "w_race_run").click().run()
    no_exception(at)
    widget(at, "w_race_scale_n").set_value([30, 100])
    widget(at, "w_race_scale_methods").set_value(["jit_method1", "scipy_cdist"])
    widget(at, "w_race_scale_run").click().run()
    no_exception(at)
    view = _check_race(at, tmp_path, "float64")
    _check_race(at, tmp_path, "float64", prefix="scaling", view=view)


# --- vmap, further ------------------------------------------------------------------------

def _further_open(tab: str, query: dict[str, str] | None = None):
    at = open_page("further.py", query)
    at.session_state["further_topic"] = tab
    at.run()
    no_exception(at)
    return at


def _further_export(at, tmp_path, tab: str) -> dict[str, np.ndarray]:
    script = exported(at, "further")[0]
    assert f"'tab': {tab!r}" in script  # the open tab, and only its view is computed
    tmp_path.mkdir(parents=True, exist_ok=True)
    return run_alone(script, "further", tmp_path)


def _dataframe(at, column: str):
    """The table on screen with this column."""
    return next(df.value for df in at.dataframe if column in df.value.columns)


def test_further_export_reproduces_the_open_collectives_tab(tmp_path):
    at = _further_open("Collectives", {"n": "120", "dataset": "moons"})
    view = _further_export(at, tmp_path, "Collectives")
    shown = np.asarray(plotly_figures(at)["w_further_collective_chart"]["data"][0]["z"])
    close(view["K"], shown, "float32")
    close(view["copies"], _dataframe(at, "x0").to_numpy(), "float32")
    np.testing.assert_array_equal(view["axis_size"], np.full(120, 120))
    close(view["K"], view["reference"], "float32", scale=10.0)


@pytest.mark.slow
def test_further_export_of_the_control_flow_and_devices_tabs(tmp_path):
    at = _further_open("Control flow", {"n": "300", "dtype": "float64", "further_decades": "20"})
    view = _further_export(at, tmp_path / "control", "Control flow")
    table = _dataframe(at, "rows above threshold")
    assert view["cond_label"].tolist() == list(table["program"])  # timings: labels and shape only
    np.testing.assert_array_equal(view["cond_costly_rows"], table["rows above threshold"])
    assert view["cond_median_s"].shape == (len(table),)
    steps = plotly_figures(at)["w_further_while_chart"]["data"]
    np.testing.assert_array_equal(np.sort(view["steps"]), np.asarray(steps[0]["y"]))
    assert int(view["trips"]) == int(metric(at, "batched loop trips"))

    at.session_state["further_topic"] = "Devices"
    at.run()
    no_exception(at)
    script = exported(at, "further")[0]
    assert script.index("split_cpu_into_devices()") < script.index("import jax")
    view = _further_export(at, tmp_path / "devices", "Devices")
    shards = _dataframe(at, "rows × columns it holds")["rows × columns it holds"]
    assert [" × ".join(f"{v:,}" for v in s) for s in view["shard_shapes"]] == list(shards)
    close(view["K"], view["K_plain"], "float64")


def _random_keys_shown(at, view):
    assert metric(at, "std, split-key noise") == f"{view['noise_split_keys'].std():.3g}"


def _jacobians_shown(at, view):
    table = _dataframe(at, "XLA's flop count")
    assert list(table["way"]) == view["ways"].tolist()
    assert list(table["XLA's flop count"]) == [f"{f:,.0f}" for f in view["flops"]]
    t = np.tanh(view["W"].astype(np.float64) @ view["x"].astype(np.float64))
    close(view["J"], np.broadcast_to((1 - t**2)[:, None] * view["W"], view["J"].shape), "float32", 10)


def _memory_shown(at, view):
    table = _dataframe(at, "scratch (temp) bytes")
    assert list(table["batch_size"]) == [str(b) if b else "vmap" for b in view["batch_size"]]
    assert list(table["scratch (temp) bytes"]) == [f"{b:,}" for b in view["temp_bytes"]]


def _forms_shown(at, view):
    bars = plotly_figures(at)["w_further_forms_chart"]["data"]
    assert [b["name"] for b in bars] == view["forms"].tolist()
    np.testing.assert_array_equal(np.stack([np.asarray(b["y"]) for b in bars]), view["equations"])


def _custom_shown(at, view):
    table = _dataframe(at, "host calls")
    assert list(table["host calls"]) == view["host_calls"].tolist()
    close(view["K"], view["K_plain"], "float32")


@pytest.mark.slow
@pytest.mark.parametrize("tab, check", [("Random keys", _random_keys_shown),
                                        ("Jacobians", _jacobians_shown), ("Memory", _memory_shown),
                                        ("Vectorize", _forms_shown), ("Custom batching", _custom_shown)])
def test_further_export_of_every_other_tab(tmp_path, tab, check):
    at = _further_open(tab, {"n": "100", "dataset": "blobs"})
    check(at, _further_export(at, tmp_path, tab))
