"""vmap, further: every tab renders without an exception, its controls change what it
shows, and the tab and controls can be set from the URL."""

from __future__ import annotations

import jax
import numpy as np
import pytest

from core.views.data import builtin_data
from core.views.further import cond_section, further_view, newton_section
from tests.app.conftest import metric, no_exception, open_page, plotly_figures, widget
from tests.app.figures import assert_heatmap_shows

PAGE = "further.py"


def _open_tab(at, label: str):
    at.session_state["further_topic"] = label
    at.run()
    no_exception(at)
    return at


def _table(at, column: str):
    return next(df.value for df in at.dataframe if column in df.value.columns)


def _assert_collectives_draws_its_view(at) -> None:
    """Collectives, the tab a visit opens on, draws `core.views.further`'s arrays for the
    sidebar's data: the heatmap is the view's K, the metrics its numbers, the table its copies."""
    source, settings = at.session_state["_export_further"][:2]  # what the page's export calls
    assert settings["tab"] == "Collectives" and settings["controls"]["collective"] == "psum"
    X, _ = builtin_data(source.dataset, source.n, source.seed, source.noise, source.dtype)
    view = further_view(X, None, tab="Collectives", dtype=settings["dtype"], gamma=settings["gamma"],
                        controls=settings["controls"])
    rtol = {"float32": 1e-6, "float64": 1e-12}[settings["dtype"]]
    n = min(X.shape[0], settings["controls"]["max_rows"])
    assert view["K"].shape == (n, n)
    assert_heatmap_shows(plotly_figures(at)["w_further_collective_chart"], view["K"], rtol=rtol, atol=rtol)
    assert metric(at, "max |Δ| to NumPy") == f"{float(view['max_abs_diff']):.2g}"
    assert metric(at, "largest eigenvalue") == f"{float(view['top_eigenvalue']):.4f}"
    assert metric(at, "lax.axis_size") == f"{int(view['axis_size'][0]):,}" == f"{n:,}"
    np.testing.assert_allclose(_table(at, "x0").to_numpy(dtype=float), view["copies"], rtol=rtol)


def test_collectives_tab_is_the_default_and_follows_its_controls():
    at = open_page(PAGE)
    assert at.title[0].value == "vmap, further"
    _assert_collectives_draws_its_view(at)
    assert float(metric(at, "max |Δ| to NumPy")) < 1e-5
    assert metric(at, "largest eigenvalue") == "1.0000"
    assert metric(at, "lax.axis_size") == "300"
    assert "w_further_collective_chart" in plotly_figures(at)
    assert any("psum[axes=(0,)" in c.value for c in at.code)
    widget(at, "further_collective").set_value("pmean").run()
    no_exception(at)
    assert float(metric(at, "largest |row sum|")) < 1e-3
    widget(at, "further_copies").set_value(5).run()
    no_exception(at)
    assert _table(at, "x0").shape == (5, 2)
    assert not at.warning, [w.value for w in at.warning]


def _assert_control_draws_its_view(at) -> None:
    """Control flow draws its view's sections for the sidebar's data: the bars' and the
    table's programs are "cond_label", the costly rows "cond_costly_rows"; Newton's bars
    are "steps" (sorted) with each one's input "a" as customdata, the dashed line "trips"."""
    source, settings = at.session_state["_export_further"][:2]
    assert settings["tab"] == "Control flow"
    controls = settings["controls"]
    X, _ = builtin_data(source.dataset, source.n, source.seed, source.noise, source.dtype)
    cond = cond_section(X, settings["dtype"], settings["gamma"], fractions=controls["fractions"],
                        max_rows=controls["max_rows"])
    bars = plotly_figures(at)["w_further_cond_chart"]["data"][0]
    assert list(bars["y"])[::-1] == cond["cond_label"].tolist()  # drawn top down
    table = _table(at, "rows above threshold")
    assert list(table["program"]) == cond["cond_label"].tolist()
    np.testing.assert_array_equal(table["rows above threshold"], cond["cond_costly_rows"])
    newton = newton_section(X, settings["dtype"], decades=controls["decades"],
                            max_rows=controls["max_rows"])
    steps, trips = plotly_figures(at)["w_further_while_chart"]["data"]
    rank = np.argsort(newton["steps"], kind="stable")
    np.testing.assert_array_equal(np.asarray(steps["y"]), newton["steps"][rank])
    np.testing.assert_array_equal(np.asarray(steps["customdata"]), newton["a"][rank])
    assert list(trips["y"]) == [int(newton["trips"])] * 2


def test_control_flow_tab_counts_trips_and_shows_select_n():
    at = _open_tab(open_page(PAGE), "Control flow")
    _assert_control_draws_its_view(at)
    trips = int(metric(at, "batched loop trips"))
    assert trips == int(metric(at, "slowest element's steps"))
    assert any("select_n" in c.value for c in at.code) and any("cond[" in c.value for c in at.code)
    assert list(_table(at, "rows above threshold")["rows above threshold"]) == [0, 100, 200, 300,
                                                                                 400, 400, 0]
    widget(at, "further_decades").set_value(2).run()
    no_exception(at)
    assert int(metric(at, "batched loop trips")) < trips


def test_random_keys_tab_shows_shared_against_independent_draws():
    at = _open_tab(open_page(PAGE), "Random keys")
    assert metric(at, "one key: row 0's noise") == "400 of 400"
    assert metric(at, "split: row 0's noise") == "1 of 400"
    widget(at, "further_noise_scale").set_value(1.0).run()
    no_exception(at)
    assert float(metric(at, "std, split-key noise")) == pytest.approx(1.0, abs=0.1)
    widget(at, "further_key_seed").set_value(7).run()
    no_exception(at)
    assert metric(at, "one key: row 0's noise") == "400 of 400"


@pytest.mark.slow
def test_jacobians_tab_says_which_way_wins_by_shape():
    at = _open_tab(open_page(PAGE), "Jacobians")
    table = _table(at, "XLA's flop count")
    assert len(table) == 4 and all(float(v) < 1e-5 for v in table.iloc[:, 2])
    assert any("**forward (jvp)** needs fewer flops" in m.value for m in at.markdown)
    widget(at, "further_jac_n").set_value(256).run()
    widget(at, "further_jac_m").set_value(4).run()
    no_exception(at)
    assert any("**reverse (vjp)** needs fewer flops" in m.value for m in at.markdown)
    assert len(plotly_figures(at)["w_further_jac_chart"]["data"]) == 2


@pytest.mark.slow
def test_memory_tab_reads_xla_memory_for_each_batch_size():
    at = _open_tab(open_page(PAGE), "Memory")
    table = _table(at, "scratch (temp) bytes")
    assert list(table["batch_size"]) == ["1", "4", "16", "64", "256", "400", "vmap"]
    temp = [int(v.replace(",", "")) for v in table["scratch (temp) bytes"]]
    assert temp[-1] == temp[-2] >= 400 * 400 * 4
    widget(at, "further_knn_k").set_value(2).run()
    no_exception(at)


def test_vectorize_custom_and_devices_tabs():
    at = _open_tab(open_page(PAGE), "Vectorize")
    table = _table(at, "same arithmetic as broadcasting")
    assert set(table["same arithmetic as broadcasting"]) == {"yes"}
    widget(at, "further_forms_rows").set_value(3).run()
    no_exception(at)
    assert any("f32[3,3,2]" in c.value for c in at.code)

    _open_tab(at, "Custom batching")
    assert float(metric(at, "max |Δ| between the rule's")) < 1e-5
    calls = _table(at, "host calls")
    assert list(calls["host calls"]) == [100, 100, 1, 1, 0]
    widget(at, "further_vmap_method").set_value("None").run()
    no_exception(at)
    assert any(i.value.startswith("JAX refused, as documented") for i in at.info)
    widget(at, "further_vmap_method").set_value("expand_dims").run()
    assert any(s.value.startswith("1 host call;") for s in at.success)

    _open_tab(at, "Devices")
    count = jax.device_count()  # one per core, as app.py asks (tests/conftest.py asks the same)
    assert metric(at, "devices") == str(count)
    assert metric(at, "output sharding") == "P('rows', None)"
    n = int(at.session_state["n"]) // count * count  # rows trimmed to split evenly
    assert list(_table(at, "rows × columns it holds")["rows × columns it holds"]) == (
        [f"{n // count:,} × {n:,}"] * count)
    widget(at, "further_devices_way").set_value("spmd_axis_name").run()
    no_exception(at)
    assert float(metric(at, "max |Δ| to one-device vmap")) < 1e-5


def test_the_url_opens_a_tab_with_its_controls_and_no_warning():
    at = open_page(PAGE, {"further_topic": "Random keys", "further_noise_scale": "1.0"})
    assert not at.warning, [w.value for w in at.warning]
    assert metric(at, "one key: row 0's noise") == "400 of 400"
    assert float(metric(at, "std, split-key noise")) == pytest.approx(1.0, abs=0.1)
    assert np.isfinite(float(metric(at, "std, split-key noise")))


def test_ten_points_in_float64_and_more_neighbours_than_points_get_a_notice_not_a_traceback():
    at = open_page(PAGE, {"n": "10", "dtype": "float64", "further_topic": "Memory",
                          "further_knn_k": "16"})
    assert any("k = 16 is more than the N = 10 points" in i.value for i in at.info)
    assert list(_table(at, "scratch (temp) bytes")["batch_size"]) == ["1", "4", "10", "vmap"]
    for label in ("Collectives", "Control flow", "Random keys", "Jacobians", "Vectorize",
                  "Custom batching", "Devices"):
        _open_tab(at, label)
    assert any("float64" in m.value for m in at.markdown)
