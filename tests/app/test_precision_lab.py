"""AppTest of the Precision lab: defaults, every control, and the numbers it shows.

The table must show exactly what `core.lessons.accuracy` computes for the lab's data.
Runs are few (each one compiles JAX code on a busy machine), so one test walks
through all the controls on small data.
"""

from __future__ import annotations

import jax
import numpy as np
import pytest

from core.lessons.accuracy import DEFAULT_LAB_METHODS, lab_accuracy
from core.dense.methods import METHODS
from tests.app.conftest import no_exception, open_page, widget

PAGE = "precision.py"
COLUMNS = {"max |ΔK|": "k_max_error", "median |ΔK|": "k_median_error",
           "max |Δd²|": "d2_max_error", "median |Δd²|": "d2_median_error",
           "d² < 0 before clipping": "negatives", "max |Kᵢᵢ − 1|": "diagonal_deviation"}


def _table(at):
    return next(df.value for df in at.dataframe if "max |ΔK|" in df.value.columns)


def _assert_table_is_core(at, methods, *args, precision=None):
    table = _table(at)
    assert list(table["method"]) == [METHODS[m].label for m in methods]
    for i, (m, expected) in enumerate(zip(methods, lab_accuracy(*args, methods, precision))):
        assert expected.method == m
        for column, field in COLUMNS.items():
            assert table[column].iloc[i] == pytest.approx(getattr(expected, field), rel=1e-6,
                                                          abs=1e-15), (m, column)


def test_defaults_show_cores_errors_and_the_expansion_failing():
    at = open_page(PAGE)
    # Defaults: float32, offset 1000, spread 1, N 200, D 5, sidebar seed 0.
    _assert_table_is_core(at, DEFAULT_LAB_METHODS, 200, 5, 1.0, 1000.0, 0, "float32")
    table = _table(at).set_index("method")
    # What the page is for: the expansion is visibly wrong, the vector form is not.
    assert table.loc[METHODS["jit_expansion"].label, "max |ΔK|"] > 0.01
    assert table.loc[METHODS["jit_method1"].label, "max |ΔK|"] < 2e-6
    assert table.loc[METHODS["jit_expansion"].label, "d² < 0 before clipping"] > 0
    charts = at.get("plotly_chart")
    assert len(charts) == len(DEFAULT_LAB_METHODS) + 1  # one heatmap per method + the sweep


def test_every_control_changes_the_numbers_as_core_says():
    at = open_page(PAGE)
    for key, value in [("w_prec_n", 40), ("w_prec_d", 2), ("w_prec_scale", 2.0),
                       ("w_prec_offset", 10000.0), ("w_prec_sweep_metric", "d²"),
                       ("w_prec_methods", ["jit_expansion", "jit_centered", "scipy_cdist"]),
                       ("w_prec_dtype", "float64")]:
        widget(at, key).set_value(value).run()
        no_exception(at)
    methods = ["jit_expansion", "jit_centered", "scipy_cdist"]
    _assert_table_is_core(at, methods, 40, 2, 2.0, 10000.0, 0, "float64")
    assert len(at.get("plotly_chart")) == len(methods) + 1

    widget(at, "w_prec_matmul_highest").set_value(True).run()
    no_exception(at)
    _assert_table_is_core(at, methods, 40, 2, 2.0, 10000.0, 0, "float64", precision="highest")
    effect = next(df.value for df in at.dataframe
                  if "max |K(highest) − K(default)|" in df.value.columns)
    assert len(effect) == len(methods)
    if jax.default_backend() == "cpu":
        assert np.all(effect["max |K(highest) − K(default)|"] == 0)
        assert any("no difference" in info.value for info in at.info)

    widget(at, "w_prec_methods").set_value([]).run()
    no_exception(at)
    assert any("pick at least one" in w.value for w in at.warning)


def test_tables_show_a_dash_for_missing_values_and_the_sidebar_says_what_applies():
    at = open_page("precision.py")
    no_exception(at)
    # Streamlit shows a missing value as "None" unless the table names a placeholder.
    table = next(df for df in at.dataframe if "max |ΔK|" in df.value.columns)
    assert table.proto.placeholder == "—"
    assert any("only **Seed** applies here" in c.value for c in at.sidebar.caption)


def _axis_covers(axis: dict, values: np.ndarray, log: bool = False) -> None:
    """The axis shows every value: its range (log₁₀ units on a log axis) holds them, or
    Plotly fits it to them (no range set, autorange not turned off)."""
    values = np.log10(values) if log else np.asarray(values, dtype=float)
    if "range" in axis:
        low, high = sorted(axis["range"])
        assert low <= np.nanmin(values) and np.nanmax(values) <= high, (axis["range"], values)
    else:
        assert axis.get("autorange", True) is not False, axis


def _sweep_shows(fig, sweep, key, labels, floor, y_title):
    """The sweep chart draws `sweep[key]` (M, P), one line per label, with its axes."""
    lines = {t["name"]: t for t in fig["data"]}
    for label, errors in zip(labels, sweep[key]):
        np.testing.assert_allclose(lines[label]["x"], sweep["sweep_offsets"])
        np.testing.assert_allclose(lines[label]["customdata"], errors, rtol=1e-6)
        np.testing.assert_allclose(lines[label]["y"], np.maximum(errors, floor), rtol=1e-6)
        _axis_covers(fig["layout"]["yaxis"], np.maximum(errors, floor), log=True)
    layout = fig["layout"]
    assert layout["xaxis"]["type"] == layout["yaxis"]["type"] == "log"
    assert layout["xaxis"]["title"]["text"] == "offset added to every coordinate (data units)"
    assert layout["yaxis"]["title"]["text"] == y_title
    _axis_covers(layout["xaxis"], sweep["sweep_offsets"], log=True)
    assert [s["x0"] for s in layout["shapes"]] == [1000.0]  # the current offset
    return lines


def test_figures_draw_the_views_arrays():
    """At the defaults, each heatmap, the table and the sweep chart hold what the view's
    sections return for the same settings, on axes that name and cover them."""
    from core.views.precision import precision_at_offset, precision_sweep
    from tests.app.conftest import plotly_figures
    from tests.app.figures import assert_heatmap_shows

    at = open_page(PAGE)
    lab = dict(n=200, d=5, scale=1.0, seed=0, dtype="float32", methods=DEFAULT_LAB_METHODS)
    at_offset = precision_at_offset(offset=1000.0, **lab)
    sweep = precision_sweep(**lab)
    labels = [METHODS[m].label for m in DEFAULT_LAB_METHODS]
    floor = float(np.finfo(np.float32).eps) / 100

    table = _table(at)
    assert list(table["method"]) == labels
    np.testing.assert_array_equal(table["d² < 0 before clipping"], at_offset["negatives"])
    for column, field in COLUMNS.items():
        np.testing.assert_allclose(table[column].to_numpy(float), at_offset[field], rtol=1e-6,
                                   atol=1e-12, err_msg=column)

    figures = plotly_figures(at)
    for method, error in zip(DEFAULT_LAB_METHODS, at_offset["k_abs_error"]):
        fig = figures[f"w_prec_heat_{method}"]
        shown = np.log10(np.maximum(error, floor))
        assert_heatmap_shows(fig, shown, rtol=1e-6)
        trace = fig["data"][0]  # one colour scale for all, covering every cell
        assert trace["zmin"] <= shown.min() and shown.max() <= trace["zmax"] + 1e-6
        assert fig["layout"]["title"]["text"].startswith(METHODS[method].label)

    lines = _sweep_shows(figures["w_prec_sweep_chart"], sweep, "sweep_k_max_error", labels, floor,
                         "max |ΔK| (unitless)")
    assert set(lines) == set(labels)
    widget(at, "w_prec_sweep_metric").set_value("d²").run()  # cached: nothing recomputed
    no_exception(at)
    lines = _sweep_shows(plotly_figures(at)["w_prec_sweep_chart"], sweep, "sweep_d2_max_error",
                         labels, floor, "max |Δd²| (squared data units)")
    guide, = (t for name, t in lines.items() if name.startswith("eps·D·(offset² + spread²)"))
    np.testing.assert_allclose(guide["y"], np.maximum(sweep["cancellation_scale"], floor))
