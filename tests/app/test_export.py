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
from tests.app.conftest import no_exception, open_page, plotly_figures, widget
from tests.conftest import TOL
from ui.components.live_heatmap import decode_exact
from ui.export import export_files

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
