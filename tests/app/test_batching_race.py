"""The Batching race page: nothing runs until asked; a race's table, charts and CSV
match what `core.bench.race` measures; scaling draws log-log lines; bad choices are refused.

Races here are tiny (3-4 methods, 2 repeats, a 0.1 s budget) and no test asserts a
speed: only what the page shows for the rows it got.
"""

from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from core.data import load_dataset
from core.dense.methods import METHODS
from core.bench.race import race
from core.views.race import race_arrays, race_view, scaling_with_n
from tests.app.conftest import no_exception, open_page, plotly_figures, widget

RACED = ["map_stack", "jit_method1", "sklearn", "python_loop"]
TOL = {"float32": 2e-6, "float64": 1e-12}


def _small(at, methods=RACED) -> None:
    widget(at, "w_race_methods").set_value(methods)
    widget(at, "w_race_repeats").set_value(2)
    widget(at, "w_race_budget").set_value(0.1)
    at.run()
    no_exception(at)


def _raced(at, methods) -> None:
    """`_small(at, methods)`, then the race run by its button."""
    _small(at, methods)
    widget(at, "w_race_run").click()
    at.run()
    no_exception(at)


@pytest.fixture(scope="module")
def raced():
    """The page after one small race at the default data (blobs, N = 400, float32)."""
    at = open_page("race.py")
    _small(at)
    widget(at, "w_race_run").click()
    at.run()
    no_exception(at)
    return at


def test_nothing_is_timed_until_the_button_is_clicked():
    at = open_page("race.py")
    run = widget(at, "w_race_run")
    assert run.label == "Run the race" and not run.disabled
    assert not at.dataframe and not at.get("plotly_chart")
    # No results to download (the "Reproduce in Python" files are the view, not results).
    assert [b.key for b in at.get("download_button")] == ["w_race_export_py", "w_race_export_ipynb"]
    assert "_race_result" not in at.session_state
    assert any("No results yet" in c.value for c in at.caption)
    # The defaults include the notes' baseline and the sidebar's method ("auto").
    chosen = widget(at, "w_race_methods").value
    assert chosen[0] == "map_stack" and "auto" in chosen and "jit_method1" in chosen
    # Every method's real source is on the page.
    shown = {c.value.strip() for c in at.code}
    assert all(m.source.strip() in shown for m in METHODS.values())


def shown_table(at) -> pd.DataFrame:
    """The race table as its cells read on screen (the Styler's display text)."""
    styler = at.dataframe[0].proto.arrow_data.styler
    return pa.ipc.open_stream(styler.display_values).read_pandas()


def test_race_table_has_a_row_per_method_that_ran(raced):
    df = raced.dataframe[0].value
    assert list(df["method"]) == [METHODS[m].label for m in RACED[:3]]  # not the declined one
    assert df["speedup"][0] == pytest.approx(1.0)
    assert (df["median"] > 0).all()
    assert df["compiled"].tolist() == [False, True, False]
    assert np.isnan(df["compile (once)"][0]) and df["compile (once)"][1] > 0
    # The race compiles a fresh copy of each program: a real compile, no "cache hit".
    assert not shown_table(raced)["compile (once)"].str.contains("cached").any()


def test_declined_method_shows_its_reason(raced):
    assert any("Python double loop" in i.value and "declined" in i.value
               and "10,000 pairs" in i.value for i in raced.info)


def test_errors_shown_are_the_core_race_errors(raced):
    df = raced.dataframe[0].value
    gamma = raced.session_state["gamma"]
    X, _ = load_dataset("blobs", n=400, seed=0, noise=0.1, dtype="float32")
    rows = race(X, None, gamma, RACED[:3], "float32", repeats=1, budget_s=0.1)
    # Same data and gamma, deterministic arithmetic: the same errors.
    np.testing.assert_allclose(df["max |K − K_float64|"], [r.max_abs_error for r in rows],
                               rtol=1e-6, atol=1e-12)
    assert (df["max |K − K_float64|"] <= TOL["float32"]).all()


def test_charts_have_log_axes_titles_and_units(raced):
    charts = plotly_figures(raced)
    assert {"w_race_time_chart", "w_race_speedup_chart", "w_race_error_chart"} <= set(charts)
    time = charts["w_race_time_chart"]
    assert time["layout"]["xaxis"]["type"] == "log"
    assert "ms" in time["layout"]["xaxis"]["title"]["text"]
    assert [t["name"] for t in time["data"]] == ["steady state: median per call",
                                                  "compile (once, jit only)"]
    assert all("hovertemplate" in t for t in time["data"])
    # Declined methods have no bar.
    assert METHODS["python_loop"].label not in list(time["data"][0]["y"])


def _covers(axis: dict, values) -> None:
    """An axis shows all of `values`: Plotly's autorange, or a set range around them
    (log axes: in log10 units)."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if "range" in axis and axis.get("autorange") is not True and values.size:
        if axis.get("type") == "log":
            values = np.log10(values)
        low, high = sorted(axis["range"])
        assert low <= values.min() and values.max() <= high, (axis["range"], values)


def test_figures_and_table_draw_the_views_race(raced):
    """The table and the three charts against `race_view` run directly on the same data,
    gamma, methods and dtype: labels, shapes and errors exactly (the errors do not
    depend on timing), the timings only by label and shape (they differ run to run),
    and against the race the page ran, every drawn time exactly."""
    gamma = raced.session_state["gamma"]
    X, _ = load_dataset("blobs", n=400, seed=0, noise=0.1, dtype="float32")
    view = race_view(X, None, race_run=dict(gamma=gamma, methods=RACED, dtype="float32",
                                            repeats=2, budget_s=0.1, dataset="blobs"))
    ok = view["race_status"] == "ok"
    labels = [METHODS[m].label for m in view["race_method"][ok]]
    errors = view["race_max_abs_error"][ok]
    # What the page ran (its session), as the view's arrays: the times it drew.
    ran = race_arrays(raced.session_state["_race_result"]["rows"], "race")
    assert list(ran["race_method"]) == list(view["race_method"])
    assert list(ran["race_status"]) == list(view["race_status"])
    mine = ran["race_status"] == "ok"

    df = raced.dataframe[0].value
    assert list(df["method"]) == labels
    np.testing.assert_allclose(df["max |K − K_float64|"], errors, rtol=1e-6, atol=1e-12)
    np.testing.assert_array_equal(df["median"], ran["race_median_s"][mine])
    np.testing.assert_array_equal(np.isnan(df["compile (once)"]), np.isnan(view["race_compile_s"][ok]))

    charts = plotly_figures(raced)
    time = charts["w_race_time_chart"]
    for trace, seconds in zip(time["data"], (ran["race_median_s"][mine], ran["race_compile_s"][mine])):
        assert list(trace["y"]) == labels
        np.testing.assert_allclose(np.asarray(trace["x"], dtype=float), seconds * 1e3, rtol=1e-12)
        _covers(time["layout"]["xaxis"], trace["x"])
    assert time["layout"]["xaxis"]["title"]["text"] == "time (ms, log scale)"

    speedup = charts["w_race_speedup_chart"]["data"][0]
    has = ~np.isnan(view["race_speedup"][ok])
    assert list(speedup["y"]) == [lab for lab, h in zip(labels, has) if h]
    np.testing.assert_allclose(np.asarray(speedup["x"], dtype=float),
                               ran["race_speedup"][mine][has], rtol=1e-12)
    layout = charts["w_race_speedup_chart"]["layout"]
    assert layout["xaxis"]["title"]["text"].startswith("speedup over map + stack")
    _covers(layout["xaxis"], speedup["x"])

    error = charts["w_race_error_chart"]
    bars = error["data"][0]
    assert list(bars["y"]) == labels
    drawn = np.asarray(bars["x"], dtype=float)
    np.testing.assert_allclose(drawn[errors > 0], errors[errors > 0], rtol=1e-6)
    assert (drawn[errors == 0] < errors[errors > 0].min()).all()  # a zero sits at the floor
    assert error["layout"]["xaxis"]["title"]["text"].startswith("max |K − K_float64|")
    assert error["layout"]["xaxis"]["type"] == "log"
    _covers(error["layout"]["xaxis"], drawn)
    # The CSV download is the view's CSV for the rows the page ran: same methods, same order.
    records = list(csv.DictReader(io.StringIO(raced.session_state["_race_result"]["csv"])))
    want = list(csv.DictReader(io.StringIO(str(view["race_csv"]))))
    assert [r["method"] for r in records] == [r["method"] for r in want]
    assert list(records[0]) == list(want[0])


def test_csv_has_a_row_per_method_and_the_environment(raced):
    assert widget_download(raced, "w_race_csv")
    text = raced.session_state["_race_result"]["csv"]
    records = list(csv.DictReader(io.StringIO(text)))
    assert [r["method"] for r in records] == RACED
    assert {"env_jax", "env_numpy", "env_scikit-learn", "env_jax_devices", "env_dtype",
            "median_s", "max_abs_error", "dataset", "gamma"} <= set(records[0])
    assert records[0]["env_dtype"] == "float32" and records[3]["status"] == "declined"


def widget_download(at, key: str) -> bool:
    return any(b.proto.id.endswith(key) for b in at.get("download_button"))


def test_changed_settings_mark_results_as_previous_then_clear(raced):
    widget(raced, "w_race_repeats").set_value(3)
    raced.run()
    no_exception(raced)
    assert any("previous settings" in w.value and "repeats" in w.value for w in raced.warning)
    assert raced.dataframe  # still shown, labelled
    widget(raced, "w_race_clear").click()
    raced.run()
    no_exception(raced)
    assert not raced.dataframe and "_race_result" not in raced.session_state


def test_an_interrupted_run_keeps_nothing_and_says_so():
    at = open_page("race.py")
    at.session_state["_race_running"] = "race"  # as a run cut short by a click leaves it
    at.run()
    no_exception(at)
    assert any("stopped before it finished" in i.value for i in at.info)
    assert "_race_result" not in at.session_state


def test_no_methods_disables_the_run_button():
    at = open_page("race.py")
    widget(at, "w_race_methods").set_value([])
    at.run()
    no_exception(at)
    assert widget(at, "w_race_run").disabled
    assert any("at least one method" in i.value for i in at.info)


def test_scaling_run_draws_a_log_log_chart():
    at = open_page("race.py")
    _small(at, ["map_stack"])
    widget(at, "w_race_scale_n").set_value([30, 100])
    widget(at, "w_race_scale_methods").set_value(["map_stack", "jit_method1"])
    at.run()
    widget(at, "w_race_scale_run").click()
    at.run()
    no_exception(at)
    fig = plotly_figures(at)["w_race_scale_chart"]
    assert fig["layout"]["xaxis"]["type"] == "log" and fig["layout"]["yaxis"]["type"] == "log"
    assert "N" in fig["layout"]["xaxis"]["title"]["text"]
    lines = [t for t in fig["data"] if t["name"] != "crossover"]
    assert [t["name"] for t in lines] == [METHODS["map_stack"].label, METHODS["jit_method1"].label]
    # Against the view's scaling run with the same settings: each line's N exactly, its
    # times by shape (they differ run to run), and exactly the times the page ran.
    view = scaling_with_n([30, 100], 2, ["map_stack", "jit_method1"], "float32", 0, 2, 0.1)
    ran = race_arrays(at.session_state["_race_scaling"]["rows"], "scaling")
    for line, method in zip(lines, ("map_stack", "jit_method1")):
        mine = (view["scaling_method"] == method) & (view["scaling_status"] == "ok")
        np.testing.assert_array_equal(np.asarray(line["x"], dtype=float), view["scaling_n"][mine])
        ours = (ran["scaling_method"] == method) & (ran["scaling_status"] == "ok")
        np.testing.assert_allclose(np.asarray(line["y"], dtype=float),
                                   ran["scaling_median_s"][ours] * 1e3, rtol=1e-12)
    assert fig["layout"]["yaxis"]["title"]["text"] == "median time per call (ms, log scale)"
    np.testing.assert_array_equal(np.asarray(fig["layout"]["xaxis"]["tickvals"], dtype=float),
                                  np.unique(view["scaling_n"]))
    assert widget_download(at, "w_race_scale_csv")
    # Choices survive a visit to another page (the results are labelled with them).
    at.switch_page("app_pages/gram.py")
    at.run()
    at.switch_page("app_pages/race.py")
    at.run()
    no_exception(at)
    assert widget(at, "w_race_scale_n").value == [30, 100]
    assert "w_race_scale_chart" in plotly_figures(at)
    assert not any("previous settings" in w.value for w in at.warning)


def test_auto_row_names_its_pick_by_label_not_internal_id():
    # The issue saw "→ jit_cente…" in the race: an internal id, cut off.
    at = open_page("race.py")
    _raced(at, ["map_stack", "auto"])
    shown = " ".join(str(v) for v in at.dataframe[0].value.to_numpy().ravel())
    ids = [m for m in METHODS if m != "auto" and f"→ {m}" in shown]
    assert not ids, ids
    assert any(f"auto → {m.label}" in shown for m in METHODS.values())
    figure_text = str(plotly_figures(at))
    assert not any(f"→ {m}" in figure_text for m in METHODS if m != "auto")


def test_scaling_reports_no_clear_crossover_when_repeats_overlap():
    from core.bench.race import RaceRow, crossovers
    from core.bench.timing import TimingResult
    from ui.charts.race import scaling_chart

    def row(method, n, times):
        return RaceRow(method, METHODS[method].label, False, "ok",
                       timing=TimingResult(times_s=times), n=n)

    # Medians swap between 100 and 1000, but the repeats overlap at 1000.
    rows = [row("map_stack", 100, (1e-3, 1.1e-3)), row("jit_method1", 100, (2e-3, 2.1e-3)),
            row("map_stack", 1000, (1e-3, 1.4e-3)), row("jit_method1", 1000, (1.1e-3, 1.2e-3))]
    assert crossovers(rows) == []
    fig = scaling_chart(rows, crossovers(rows))
    assert [t.name for t in fig.data] == [METHODS["map_stack"].label, METHODS["jit_method1"].label]
    # Each point's bar spans its fastest to slowest repeat (ms).
    bars = fig.data[0].error_y
    np.testing.assert_allclose(np.asarray(bars.array) + fig.data[0].y, [1.1, 1.4])
    np.testing.assert_allclose(fig.data[0].y - np.asarray(bars.arrayminus), [1.0, 1.0])


def test_scipy_is_named_the_reference_where_its_error_is_shown():
    # The issue: SciPy's error read 0.00e+00 with nothing saying it is the reference.
    at = open_page("race.py")
    _raced(at, ["map_stack", "scipy_cdist"])
    errors = dict(zip(shown_table(at)["method"], shown_table(at)["max |K − K_float64|"]))
    assert errors[METHODS["scipy_cdist"].label] == "0 (reference)"
    assert "reference" not in errors[METHODS["map_stack"].label]
    bars = plotly_figures(at)["w_race_error_chart"]["data"][0]
    said = dict(zip(bars["y"], bars["text"]))
    assert said == {METHODS["map_stack"].label: "", METHODS["scipy_cdist"].label: "0 (reference)"}


@pytest.mark.parametrize("query, compiled", [({}, True),  # N = 400: jit · centered expansion
                                             ({"n": "3000", "dtype": "float64"}, False)])  # NumPy tiles
def test_the_code_list_and_the_table_agree_whether_auto_is_compiled(query, compiled):
    # The issue: the code list said auto was "not compiled" while the table ticked it.
    at = open_page("race.py", query)
    heading = next(e.label for e in at.expander if e.label.startswith(METHODS["auto"].label))
    assert heading.endswith("jax.jit" if compiled else "not compiled"), heading
    if compiled:  # the race's own tick, for the same size
        _raced(at, ["auto"])
        assert at.dataframe[0].value["compiled"].tolist() == [True]
        pick = at.dataframe[0].value["method"][0].removeprefix("auto → ")
        assert f"runs {pick} at this size" in heading


def test_a_compile_served_from_a_cache_says_so():
    # The issue: "compile (once)" read 720 µs, a cache hit, as if it were a compile.
    from core.bench.race import RaceRow
    from core.bench.timing import TimingResult
    from ui.charts.race import race_time_chart
    from ui.charts.race_table import race_table

    def row(method, cache):
        timing = TimingResult(times_s=(1e-3,), compile_s=7.2e-4, compile_cache=cache)
        return RaceRow(method, METHODS[method].label, True, "ok", timing=timing)

    rows = [row("jit_method1", "in-memory"), row("jit_method2", "")]
    shown = race_table(rows, "float32").to_string()
    assert "720 µs (cached)" in shown and shown.count("(cached)") == 1
    hover = race_time_chart(rows, "t").data[1].customdata[:, 5].tolist()
    assert hover == ["720 µs (cache hit: in-memory)", "720 µs"]
    assert rows[0].summary().startswith("compile 720 µs (in-memory cache hit)")
