"""Every link reproduces its view: the copied address, opened in a new session, shows the
same NUMBERS, not only the same widgets.

tests/app/test_share_links.py checks that a hand-written URL sets every control; here a
user sets controls through the widgets, the address bar is read as the browser would
write it (conftest's `address_bar`: every bound control away from its widget default,
in its wire form), and a fresh AppTest opened with that query (a new session: no session
state, no cookies) must show equal figures, metrics and tables. Timings are never compared.
A control with options writes the label it shows, so its labels must tell its options
apart (`assert_labels_name_one_option`): at the precision it shows, a link names its value.

One link round trip per page (`test_a_copied_link_reproduces_the_page`), and per pair of
kernels in the Kernel lab's two slots (`test_a_copied_link_reproduces_the_kernel_labs_kernel`),
so every kernel parameter of the registry travels through a link in each slot. The
sidebar's kernel parameters are covered the same way on the Gram explorer by
test_share_links.test_a_copied_link_reopens_every_kernel_parameter_with_the_same_numbers.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from core.kernels.functions import KERNELS
from tests.app.conftest import address_bar, no_exception, open_page, plotly_figures, widget
from tests.app.test_share_links import PAGE_CONTROLS, PAGES, WORKBENCH_SOURCE
from ui.state.settings import log_grid, snap_gamma

# --- what a page shows: its numbers ----------------------------------------------------


def shown_numbers(at, skip: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The numbers a page shows: its Plotly figures (decoded arrays), metrics and tables.

    `skip` names what holds timings: a figure's key, the start of a metric's label, a
    column of a table.
    """
    figures = {k: f for k, f in plotly_figures(at).items() if k not in skip}
    metrics = {m.label: m.value for m in at.metric
               if not any(m.label.startswith(s) for s in skip)}
    tables = [df.value.reset_index(drop=True).drop(columns=[c for c in df.value.columns
                                                            if str(c) in skip])
              for df in at.dataframe]
    return dict(figures=figures, metrics=metrics, tables=tables)


def assert_same(a: Any, b: Any, where: str = "") -> None:
    """`a` and `b` are equal: dicts and lists item by item, arrays exactly (NaN equal to NaN)."""
    import pandas as pd

    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), (where, sorted(a), sorted(b))
        for k in a:
            assert_same(a[k], b[k], f"{where}/{k}")
    elif isinstance(a, (list, tuple)) and not isinstance(b, np.ndarray):
        assert isinstance(b, (list, tuple)) and len(a) == len(b), (where, a, b)
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b, obj=where)
    elif isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b), err_msg=where)
    elif isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        pass
    else:
        assert a == b, (where, a, b)


def _differs(a: Any, b: Any) -> bool:
    try:
        assert_same(a, b)
    except AssertionError:
        return True
    return False


def set_controls(at, values: dict[str, Any], rounds: int = 3) -> None:
    """Set each bound control as a user does, rerunning for controls another one reveals.

    A control drawn only once another is set (a second kernel, a comparison method) is
    set in the next round; every key must be set in the end.
    """
    left = dict(values)
    for _ in range(rounds):
        drawn = {}
        for key, value in left.items():
            try:
                drawn[key] = widget(at, key)
            except KeyError:
                continue
        for key, w in drawn.items():
            w.set_value(left.pop(key))
        if not drawn:
            break
        at.run()
        no_exception(at)
        if not left:
            return
    assert not left, f"never drawn: {sorted(left)}"


def assert_labels_name_one_option(at) -> None:
    """Each bound control with options shows (and writes into the URL) a different label
    for each option: two values under one label would reopen as the first of them."""
    for kind in ("select_slider", "selectbox", "radio", "multiselect"):
        for w in getattr(at, kind, []):
            if getattr(w.proto, "query_param_key", ""):
                options = list(w.proto.options)
                assert len(set(options)) == len(options), (w.key, options)


def round_trip(page: str, values: dict[str, Any], skip: frozenset[str] = frozenset(),
               press: str | None = None, start: dict[str, str] | None = None
               ) -> tuple[Any, Any, dict]:
    """Open `page` (from the link `start`, if given), set `values` through the widgets,
    copy the address into a new session.

    Returns the first session, the new one, and the address. Asserts that the numbers
    changed from the page's defaults (so the link carries something), that the new
    session refused nothing, that each control set shows there what it showed in the
    first, and that the new session shows the same numbers. `press`: a button both
    sessions click after setting (a race, a computation) before the numbers are read.
    """
    at = open_page(page, start)
    before = shown_numbers(at, skip)
    set_controls(at, values)
    assert_labels_name_one_option(at)
    if press:
        widget(at, press).click().run()
        no_exception(at)
    url = address_bar(at)
    again = open_page(page, url)
    no_exception(again)
    assert not [w.value for w in again.warning if "URL" in w.value], url
    if press:
        widget(again, press).click().run()
        no_exception(again)
    for key in [*values, *(start or {})]:  # every control shows what the sender's did
        assert widget(again, key).value == widget(at, key).value, (key, url)
    after = shown_numbers(at, skip)
    assert page in SAME_NUMBERS or _differs(before, after), f"{page}: no number moved"
    assert_same(after, shown_numbers(again, skip), page)
    return at, again, url


# --- every page --------------------------------------------------------------------------

SIDEBAR_DATA = {"dataset": "moons", "n": 120, "seed": 7}
# The sidebar's controls each page uses, set away from their defaults (by value, as
# `set_value` takes them), then the page's own controls (test_share_links' table).
PAGE_CASES: dict[str, dict[str, Any]] = {
    "overview.py": {**SIDEBAR_DATA, "dtype": "float64"},
    "gram.py": {**SIDEBAR_DATA, "gamma": snap_gamma(3.0)},  # RBF: its comparison of methods
    "race.py": {"n": 60, "gamma": snap_gamma(0.5),
                "w_race_methods": ["jit_method1", "jit_broadcast"], "w_race_repeats": 1,
                "w_race_budget": 0.1},
    "anatomy.py": {"n": 90, "seed": 3},
    "further.py": {**SIDEBAR_DATA, "gamma": snap_gamma(2.0)},
    # Not N: the centre point's slider ends at N - 1, so a new N makes it a new widget, and
    # AppTest's value for the old one, given in the same run, would be lost (a user sets
    # one control per run).
    "gradients.py": {"dataset": "moons", "seed": 7, "gamma": snap_gamma(0.5)},
    "precision.py": {"dataset": "moons"},
    "kernels.py": {"dataset": "circles", "n": 80, "w_kern_jitter": 1e-5},
    "workbench.py": {},  # its source (from the link it starts at) and the source's parameter
    "fit.py": {},
    "scale.py": {},
}
# What shows timings (never compared): figure keys, metric labels' starts, table columns.
TIMINGS = frozenset({
    "w_anatomy_forms_chart",
    "w_grad_timing_chart", "Loop of jit(grad)", "jit(vmap(grad))", "Speedup",
    "median per call", "fastest – slowest", "runs", "compile", "× built-in RBF",
    "Speedup of vmap",
    "Wall time", "Cost per entry",
    "w_race_time_chart", "w_race_speedup_chart", "w_race_scale_chart",
    "median", "speedup", "compile (once)", "first call", "min", "IQR", "repeats",
})
# Pages whose numbers do not move with the settings set here: the Workbench shows how far
# each way of batching the user's kernel is from Method I (0 for every kernel and N).
SAME_NUMBERS = {"workbench.py"}
PRESS = {"race.py": "w_race_run", "scale.py": "w_scale_compute"}
# The link a page's first session opens (a new compile per source: one less run).
START = {"workbench.py": {"source": WORKBENCH_SOURCE}}


def _page_values(page: str) -> dict[str, Any]:
    own = {key: expected for key, (_, expected) in PAGE_CONTROLS[page].items()}
    if page == "race.py":  # small and fast: the race's own values above
        own = {k: v for k, v in own.items() if k.startswith("w_race_scale")}
    own = {k: v for k, v in own.items() if k not in START.get(page, {})}
    return {**own, **PAGE_CASES[page]}


def test_every_page_has_a_case():
    assert sorted(PAGE_CASES) == sorted(PAGES)


@pytest.mark.parametrize("page", PAGES)
def test_a_copied_link_reproduces_the_page(page):
    values = _page_values(page)
    at, again, url = round_trip(page, values, TIMINGS, PRESS.get(page), START.get(page))
    assert url, page
    if page == "kernels.py":  # a jitter at the old fixed default, away from the one K follows
        assert at.session_state["_kern_auto_jitter"] != 1e-5 and url["w_kern_jitter"] == ["1e-05"]


# --- every kernel of the registry, in the Kernel lab's two slots -------------------------


def _away(slot: str, name: str, p) -> tuple[str, Any]:
    """The Kernel lab's control of parameter `p` in `slot`, and a value away from its default."""
    key = f"w_kern_{slot}_{p.name}"
    if p.log:
        grid = log_grid(p.low, p.high, p.default)
        return key, grid[grid.index(p.default) + (3 if slot == "k1" else -4)]
    if p.integer:
        return key, int(p.default) + 1
    step = (p.high - p.low) / 100  # the lab's slider step
    return key, float(p.low + round((p.default - p.low) / step + 25) * step)


# Each kernel of the registry in a slot, and each parameter name in both slots (with
# test_a_copied_link_reproduces_the_page's periodic k₁ and rational-quadratic k₂).
KERNEL_PAIRS = [("product", "rational_quadratic", "periodic"), ("sum", "polynomial", "linear"),
                ("product", "linear", "matern32"), ("sum", "laplacian", "polynomial"),
                ("product", "matern52", "rbf")]


def test_the_kernel_pairs_cover_the_registry():
    assert {k for _, *pair in KERNEL_PAIRS for k in pair} == set(KERNELS)
    for slot in (1, 2):
        names = {p.name for pair in KERNEL_PAIRS for p in KERNELS[pair[slot]].params}
        names |= {"period"} if slot == 1 else {"alpha"}  # the page test's k₁ and k₂
        assert names == {p.name for k in KERNELS.values() for p in k.params}, slot


@pytest.mark.parametrize("op,k1,k2", KERNEL_PAIRS)
def test_a_copied_link_reproduces_the_kernel_labs_kernel(op, k1, k2):
    """Both kernels' every parameter set away from its default: the new session computes
    the same kernel (its formula, profile, Gram matrices, prior draws, spectra) and says
    the same about it (captions, tables)."""
    values: dict[str, Any] = {"w_kern_op": op, "w_kern_k1": k1, "w_kern_k2": k2}
    for slot, kernel in (("k1", k1), ("k2", k2)):
        values.update(_away(slot, kernel, p) for p in KERNELS[kernel].params)
    at, again, url = round_trip("kernels.py", values)
    assert {k for k in values if k.startswith(("w_kern_k1_", "w_kern_k2_"))} <= set(url), url
    for key in values:
        assert again.session_state[key] == values[key], key
    assert [x.value for x in again.latex] == [x.value for x in at.latex]
    assert [c.value for c in again.caption] == [c.value for c in at.caption]


# --- a sidebar parameter back at the data's default ------------------------------------


def test_a_period_set_back_to_the_datas_default_reopens_following_the_data():
    """The periodic kernel's period moved, then set back to the data's default: the URL
    leaves it out (it equals the widget's default), and the link opens the same period, K
    and smallest eigenvalue, the caption saying it follows the data and the reset off,
    as the sender's says; gamma, set by the user, travels and its caption says so."""
    from tests.app.test_share_links import _kernel_numbers

    at = open_page("gram.py", {"kernel": "periodic", "n": "100", "dataset": "iris"})
    data_period, data_gamma = at.session_state["period"], at.session_state["gamma"]
    grid = widget(at, "period").options
    widget(at, "period").set_value(float(grid[0])).run()
    widget(at, "period").set_value(data_period)
    widget(at, "gamma").set_value(snap_gamma(data_gamma * 3)).run()
    no_exception(at)
    url = address_bar(at)
    assert "period" not in url and "gamma" in url, url
    again = open_page("gram.py", url)
    before, after = _kernel_numbers(at), _kernel_numbers(again)
    assert after["params"] == before["params"] and after["params"]["period"] == data_period
    np.testing.assert_array_equal(after["K"], before["K"])
    assert after["smallest"] == before["smallest"] and after["note"] == before["note"]
    assert "gamma set by you" in " ".join(after["note"]), after["note"]
    assert "period" not in " ".join(after["note"]).split(" set by you")[0]
    assert not widget(again, "w_reset_gamma").disabled
