"""Shared links: a URL with every control of a page set reproduces them; bad values say so.

Each page's controls are listed here by hand with a non-default value in the form
the address bar holds it (a selectbox or radio writes its label, a select_slider
its formatted option, a multiselect one parameter per choice), and the value the
control must then show, taken from the page's own definitions. Streamlit's
binding does the seeding; these tests prove every control is bound, and that
ui/state/url.py says when a value was refused.
"""

from __future__ import annotations

import numpy as np
import pytest

from core.data import DATASETS
from core.dense.methods import METHODS
from core.kernels.functions import KERNELS
from tests.app.conftest import (address_bar, metric, no_exception, open_page, plotly_figures,
                                widget)
from tests.test_architecture import EXPECTED_PAGES
from ui.state.settings import GAMMAS, N_MAX, snap_gamma
from ui.page_index import PAGES as PAGE_INDEX
from ui.state.url import declared, owner_of

PAGES = ["overview.py", "gram.py", "race.py", "anatomy.py",
         "precision.py", "kernels.py", "gradients.py", "scale.py", "further.py", "fit.py",
         "workbench.py"]
# A kernel with a parameter of its own, as a link carries it (url-encoded by the browser).
WORKBENCH_SOURCE = ("def kernel(params, x, y):\n"
                    "    return np.exp(-params['gamma'] * np.sum((x - y) ** 2) / params['ell'])\n")

# key: (URL value(s), the value the control must show)
SIDEBAR = {
    "dataset": ("Two moons", "moons"),
    "n": ("200", 200),
    "noise": ("0.3", 0.3),
    "seed": ("7", 7),
    "dtype": ("float64", "float64"),
    "kernel": ("Polynomial", "polynomial"),
    "gamma": ("2", snap_gamma(2.0)),
    "coef0": ("2.5", 2.5),
    "degree": ("4", 4),
    "method": (METHODS["jit_method1"].label, "jit_method1"),
}
SIDEBAR_RBF = {k: v for k, v in SIDEBAR.items() if k not in ("kernel", "coef0", "degree")}
PAGE_CONTROLS = {
    "overview.py": {},
    "fit.py": {  # its own data and chosen point (the page ignores the sidebar's data)
        "fit_data": ("Diabetes", "diabetes"),
        "fit_seed": ("3", 3),
        "fit_steps": ("50", 50),
    },
    "further.py": {  # the default tab's controls; the tab itself is tested in its own file
        "further_collective": ("pmean", "pmean"),
        "further_copies": ("5", 5),
    },
    "gram.py": {
        "w_gram_order": ("false", False),
        "w_gram_compare": ("true", True),
        "w_gram_other": (METHODS["jit_method2"].label, "jit_method2"),
    },
    "race.py": {
        "w_race_methods": ([METHODS["map_stack"].label, METHODS["jit_method1"].label],
                           ["map_stack", "jit_method1"]),
        "w_race_repeats": ("3", 3),
        "w_race_budget": ("0.5 s", 0.5),
        "w_race_scale_n": (["30", "100"], [30, 100]),
        "w_race_scale_methods": ([METHODS["map_stack"].label, METHODS["scipy_cdist"].label],
                                 ["map_stack", "scipy_cdist"]),
    },
    "anatomy.py": {
        "w_anatomy_fn": ("jnp.outer(a, b)", "outer"),
        "w_anatomy_shape_a": ("4, 2", "4, 2"),
        "w_anatomy_shape_b": ("2", "2"),
        "w_anatomy_in_a": ("1", 1),
        "w_anatomy_in_b": ("0", 0),
        "w_anatomy_out": ("1", 1),
        "w_anatomy_jaxpr": ("RBF kernel → Gram matrix", "rbf"),
    },
    "precision.py": {
        "w_prec_dtype": ("float64", "float64"),
        "w_prec_offset": ("10,000", 10000.0),
        "w_prec_scale": ("2", 2.0),
        "w_prec_n": ("40", 40),
        "w_prec_d": ("2", 2),
        "w_prec_matmul_highest": ("true", True),
        "w_prec_methods": ([METHODS["jit_expansion"].label, METHODS["jit_centered"].label],
                           ["jit_expansion", "jit_centered"]),
        "w_prec_sweep_metric": ("the squared distances d²", "d²"),
    },
    "kernels.py": {
        "w_kern_op": ("sum k₁ + k₂", "sum"),
        "w_kern_grid_n": ("60", 60),
        "w_kern_k1": ("Periodic", "periodic"),
        "w_kern_k1_gamma": ("2", 1.995),
        "w_kern_k1_period": ("2", 1.995),
        "w_kern_k2": ("Rational quadratic", "rational_quadratic"),
        "w_kern_k2_alpha": ("2", 1.995),
        "w_kern_draws": ("2", 2),
        "w_kern_seed": ("7", 7),
        "w_kern_jitter": ("1e-03", 1e-3),
        "w_kern_sweep_on": ("Blobs", "data"),
    },
    "gradients.py": {
        "w_grad_loop_rows": ("25", 25),
        "w_grad_center": ("7", 7),
    },
    "workbench.py": {
        "source": (WORKBENCH_SOURCE, WORKBENCH_SOURCE),
        "wb_ell": ("0.5", 0.5),
    },
    "scale.py": {
        "w_scale_n": ("2,000", 2000),
        "w_scale_d": ("3", 3),
        "w_scale_kind": ("uniform", "uniform"),
        "w_scale_seed": ("5", 5),
        "w_scale_gamma": ("3 ×", 3.0),
        "w_scale_rows": ("64", 64),
    },
}


# Drawn only once another control asks for them (a comparison, a second kernel, a periodic k₁,
# a workbench source that reads params['ell']).
CONDITIONAL = {"w_gram_other", "w_kern_k1_period", "w_kern_k2", "w_kern_k2_alpha", "wb_ell"}
# Declared names and families a page draws only in some states: an upload's target column,
# the "vmap, further" tabs other than the first (each draws its own), the second kernel's
# parameters (op "single" by default), the user's own workbench parameters.
NOT_DRAWN_BY_DEFAULT = CONDITIONAL | {
    "fit_target", "further_decades", "further_key_seed", "further_noise_scale", "further_jac_n",
    "further_jac_m", "further_jac_vary", "further_knn_k", "further_forms_rows", "further_vmap_method",
    "further_devices_way", "w_kern_k2_", "wb_"}


def _open(page: str, controls: dict) -> object:
    """`page` opened from a URL holding each control's raw value."""
    return open_page(page, {key: raw for key, (raw, _) in controls.items()})


def test_every_page_is_listed():
    assert sorted(PAGES) == sorted(EXPECTED_PAGES)


@pytest.mark.parametrize("page", PAGES)
def test_a_url_with_every_control_set_reproduces_the_page(page):
    # The sidebar's every control on the Overview; on the Gram explorer with the RBF kernel,
    # whose comparison of batching methods is a page control.
    sidebar = {"overview.py": SIDEBAR, "gram.py": SIDEBAR_RBF}.get(page, {})
    controls = {**sidebar, **PAGE_CONTROLS[page]}
    at = _open(page, controls)
    assert not at.warning or all("URL" not in w.value for w in at.warning), \
        [w.value for w in at.warning]
    for key, (_, expected) in controls.items():
        assert widget(at, key).value == expected, (page, key, widget(at, key).value)


def _bound_tabs(node) -> set[str]:
    """The URL names of the bound st.tabs under `node` (their container block carries it)."""
    proto = getattr(node, "proto", None)
    tabs = proto is not None and "tab_container" in proto.DESCRIPTOR.fields_by_name and proto.HasField(
        "tab_container")
    key = proto.tab_container.query_param_key if tabs else ""
    return ({key} if key else set()).union(*(_bound_tabs(c) for c in getattr(node, "children", {}).values()))


@pytest.mark.parametrize("page", PAGES)
def test_every_bound_control_is_declared_for_its_own_page(page):
    """A page's bound widgets carry exactly the URL names declared for that page (or the
    sidebar), by a module its entry in ui/page_index.py names, so a link's first run knows
    them before any widget exists; and the page draws every name declared for it."""
    at = open_page(page)
    bound = set()
    for kind in ("selectbox", "select_slider", "slider", "radio", "number_input", "toggle",
                 "multiselect", "text_input", "text_area"):
        for w in getattr(at, kind, []):
            if getattr(w.proto, "query_param_key", ""):
                bound.add(w.proto.query_param_key)
    expected = set(PAGE_CONTROLS[page]) | {"dataset", "n", "dtype", "kernel", "method"}
    missing = expected - CONDITIONAL - bound
    assert not missing, missing
    bound |= _bound_tabs(at.main)
    address = PAGE_INDEX[page].url_path
    assert {k: owner_of(k) for k in bound if owner_of(k) not in (address, "sidebar")} == {}
    names, prefixes = declared(address)
    # Declared by the page's `controls`, which the first run imports before it prunes a link.
    assert set(names.values()) | set(prefixes.values()) <= set(PAGE_INDEX[page].controls), (names, prefixes)
    assert set(names) - NOT_DRAWN_BY_DEFAULT - bound == set()
    assert {p for p in prefixes if not any(k.startswith(p) for k in bound)} - NOT_DRAWN_BY_DEFAULT == set()


@pytest.mark.parametrize("page,key,raw,fallback", [
    ("gram.py", "w_gram_order", "maybe", True),
    ("scale.py", "w_scale_n", "7", 10_000),
    ("kernels.py", "w_kern_k1", "Sinc", "rbf"),
    ("precision.py", "w_prec_n", "5000", 200),
    ("gradients.py", "w_grad_loop_rows", "33", 100),
    ("race.py", "w_race_repeats", "0", 5),
])
def test_a_bad_page_value_shows_a_notice_and_falls_back(page, key, raw, fallback):
    at = _open(page, {key: (raw, None)})
    notices = [w.value for w in at.warning]
    assert any(f"URL value {key}=`{raw}` was not accepted" in n for n in notices), notices
    assert widget(at, key).value == fallback


def test_a_bad_sidebar_value_falls_back_with_a_notice_in_the_main_area():
    at = _open("overview.py", {"dtype": ("float16", None), "kernel": ("Gaussian", None)})
    main = [w.value for w in at.main.warning]
    assert any("URL value dtype=`float16`" in n for n in main), main
    # Not a label of the kernel control ("RBF (Gaussian)" is).
    assert any("URL value kernel=`Gaussian`" in n for n in main), main
    assert widget(at, "dtype").value == "float32" and widget(at, "kernel").value == "rbf"


def test_the_cap_on_n_is_the_data_size_and_n_max():
    rows = DATASETS["iris"].n_available
    at = _open("overview.py", {"dataset": ("Iris", None), "n": (str(rows + 50), None)})
    assert any(f"URL value n=`{rows + 50}`" in w.value for w in at.warning)
    assert widget(at, "n").value == rows and widget(at, "n").max == rows
    at = _open("overview.py", {"n": (str(N_MAX + 10), None)})
    assert any("URL value n=" in w.value for w in at.warning)
    assert widget(at, "n").value == 400
    at = _open("overview.py", {"n": (str(N_MAX), None)})
    assert not at.warning and widget(at, "n").value == N_MAX


def test_the_cap_on_gamma_is_the_slider_range():
    assert GAMMAS[0] == 1e-6 and GAMMAS[-1] == 1e4
    at = _open("overview.py", {"gamma": ("1e+04", None)})
    assert not at.warning and widget(at, "gamma").value == 1e4
    for raw in ("2e4", "1e-7", "1e300", "nan"):
        at = _open("overview.py", {"gamma": (raw, None)})
        assert any("URL value gamma=" in w.value for w in at.warning), raw
        assert "gamma follows the median heuristic" in " ".join(c.value for c in at.sidebar.caption)


def test_a_shared_upload_view_says_the_file_stayed_with_its_sender():
    at = _open("overview.py", {"dataset": ("Your upload: mine.csv", None)})
    assert any("uploaded file" in w.value and "sender" in w.value for w in at.warning)
    assert widget(at, "dataset").value == "blobs"


# --- the upload: one owner, caps, replacement, errors where the upload is ----------------

def _csv(rows: np.ndarray) -> bytes:
    return ("a,b,c\n" + "\n".join(",".join(f"{v:.6f}" for v in r) for r in rows)).encode()


def test_after_a_60_row_upload_the_n_control_shows_60():
    at = open_page("gram.py")
    assert widget(at, "n").value == 400
    widget(at, "w_upload").upload("mine.csv", _csv(np.random.default_rng(3).normal(size=(60, 3))),
                                  "text/csv")
    at.run()
    no_exception(at)
    assert widget(at, "n").value == 60 and widget(at, "n").max == 60
    assert "N = 60" in at.markdown[0].value


def test_a_second_valid_upload_replaces_the_first():
    at = open_page("gram.py")
    first = np.random.default_rng(1).normal(size=(60, 3))
    second = np.random.default_rng(2).normal(size=(30, 2))
    widget(at, "w_upload").upload("first.csv", _csv(first), "text/csv")
    at.run()
    assert "first.csv" in at.markdown[0].value and "N = 60" in at.markdown[0].value
    widget(at, "w_upload").upload("second.csv", ("a,b\n" + "\n".join(
        f"{x:.6f},{y:.6f}" for x, y in second)).encode(), "text/csv")
    at.run()
    no_exception(at)
    assert "second.csv" in at.markdown[0].value and "N = 30" in at.markdown[0].value
    assert "D = 2" in at.markdown[0].value and "first.csv" not in at.markdown[0].value
    assert widget(at, "dataset").value == "upload" and widget(at, "n").value == 30


def test_an_upload_error_stays_with_the_upload_not_on_every_page():
    at = open_page("gram.py")
    widget(at, "w_upload").upload("broken.csv", b"a,b\n1,x\n2,y\n", "text/csv")
    at.run()
    no_exception(at)
    assert [e.value for e in at.error if "broken.csv" in e.value] == [
        e.value for e in at.main.error if "broken.csv" in e.value]  # in the main area
    assert any("broken.csv" in e.value for e in at.error)
    at.switch_page("app_pages/kernels.py").run()
    no_exception(at)
    assert not any("broken.csv" in e.value for e in at.error)
    assert widget(at, "dataset").value == "blobs"


# --- kernel parameters and gamma: a copied link opens the same numbers ---------------------

def _away_from_default(spec, now: float) -> float:
    """A value the user could pick that is not `now` (the data's default as drawn).

    The parameter's fixed default where the data's differs from it (period 1 where the
    data's is 141: the value a fixed widget default dropped from the URL), else a
    value a few steps away.
    """
    from ui.state.settings import log_grid

    if spec.log:
        grid = log_grid(spec.low, spec.high, spec.default)
        if spec.default != now:
            return spec.default
        return grid[min(grid.index(now) + 5, len(grid) - 1)]
    if spec.integer:
        return int(spec.default) + 1
    return float(spec.default) + 2.5


def _kernel_numbers(at) -> dict:
    """What the Gram explorer computed: the parameters its Settings hold, K as drawn, λ_min."""
    from tests.app.test_gram_explorer import shown_K

    ss = at.session_state
    names = [p.name for p in KERNELS[ss["kernel"]].params]
    return dict(params={name: ss[name] for name in names}, K=np.asarray(shown_K(at)),
                smallest=metric(at, "Smallest eigenvalue"), note=[
                    c.value for c in at.caption if "follows" in c.value or "set by you" in c.value])


@pytest.mark.parametrize("kernel,param", [(k, p.name) for k in KERNELS for p in KERNELS[k].params])
def test_a_copied_link_reopens_every_kernel_parameter_with_the_same_numbers(kernel, param):
    """Each kernel parameter and gamma, set away from its default: the address bar the
    browser would show, opened in a fresh session, gives the same parameters, the same
    K and the same smallest eigenvalue (the periodic kernel's period 1 vanished from the
    URL and the link opened the data's period 141)."""
    at = open_page("gram.py", {"kernel": kernel, "n": "100", "dataset": "iris"})
    spec = next(p for p in KERNELS[kernel].params if p.name == param)
    value = _away_from_default(spec, at.session_state[param])
    widget(at, param).set_value(value).run()
    no_exception(at)
    before = _kernel_numbers(at)
    assert before["params"][param] == value
    if param in ("gamma", "period"):  # the data's defaults: the note and the reset say it is set
        assert f"{param} set by you" in " ".join(before["note"]), before["note"]
        assert not widget(at, "w_reset_gamma").disabled
    url = address_bar(at)
    assert param in url, url
    again = open_page("gram.py", {"kernel": kernel, "dataset": "iris", **url})
    no_exception(again)
    assert not [w.value for w in again.warning if "URL" in w.value]  # nothing refused
    after = _kernel_numbers(again)
    assert after["params"] == before["params"]
    np.testing.assert_array_equal(after["K"], before["K"])
    assert after["smallest"] == before["smallest"] and after["note"] == before["note"]


def test_the_url_writes_gamma_as_the_slider_and_the_heatmap_show_it():
    """gamma's grid holds 4 significant digits: the URL, the slider and the heatmap's title
    all say 0.1995 (the URL said 0.2 while the live slider showed 0.1995), and an older
    link's 3-digit gamma=0.2 still opens 0.1995."""
    at = open_page("gram.py", {"kernel": "periodic", "n": "100"})
    widget(at, "gamma").set_value(snap_gamma(0.2)).run()
    assert address_bar(at)["gamma"] == ["0.1995"]
    assert widget(at, "gamma").options[GAMMAS.index(0.1995)] == "0.1995"
    assert plotly_figures(at)["w_gram_heatmap"]["layout"]["title"]["text"].startswith(
        "K, gamma = 0.1995")
    older = open_page("gram.py", {"kernel": "periodic", "n": "100", "gamma": "0.2"})
    assert older.session_state["gamma"] == 0.1995
    assert not [w.value for w in older.warning if "URL" in w.value]
