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
