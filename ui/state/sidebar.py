"""The shared sidebar: data, kernel and batching choices, drawn first by every page.

Each page calls `render_sidebar()` first, so the sidebar works both under
`st.navigation` (app.py runs the page) and when a page runs alone. Every control
is keyed by its URL parameter name and drawn with `ui.state.url.bound`: Streamlit keeps
its value across pages and mirrors it in the address bar, so a copied URL
reproduces the view. A page names the sections it uses (`render_sidebar(uses=...)`):
the controls of the others are drawn in a hidden container, so they stay in the URL
and keep their values for the other pages while the page shows only what changes
it. The sidebar owns the upload: it validates the file, keeps
the last good one, and hands it to pages inside `Settings` (ui/state/cache.py's
`load_data` reads it from there).

The run's state has one owner each. The data is loaded once per choice of data
(`ui.state.cache.load_data`); `Settings` is built once per run, here, from the bound
controls. gamma lives in one session key, `GAMMA` ("gamma", also its URL name), the
bound control's: it follows a default computed from the current data for the current
kernel (`core.kernels.default_params_for`: the median heuristic for RBF; the periodic
kernel's period follows the data too) until someone sets it, and `set_gamma` is its one
setter (the reset button, the live heatmap's release through `hand_released_gamma`, any
page), called before the control is drawn in a run or from a widget's callback; the
slider, the URL and every page then show that value.
"""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any

import streamlit as st

from core.data import DATASETS, MAX_TABLE_BYTES, describe_table_warnings, load_table
from core.dense.methods import METHODS
from core.errors import DataError
from core.kernels.functions import DATA_DEFAULT_RULES, KERNELS
from ui.state.cache import Data, data_defaults, load_data
from ui.components.narrow_sidebar import collapse_sidebar_when_narrow
from ui.state.settings import (DEFAULT_N, GAMMAS, N_MAX, N_MIN, UPLOAD, DataChoice, Settings, Upload, grid_label,
                         kernel_param_specs, log_grid, snap_gamma, snap_log)
from ui.state.url import bound, code, from_link, start, url_keys

__all__ = ["render_sidebar", "gamma_slider", "set_gamma", "hand_released_gamma", "with_current_gamma", "GAMMA",
           "SECTIONS", "UNUSED_KEY"]

_UPLOAD = "_sidebar_upload"  # the last valid Upload (this module's own state)
_UPLOAD_ERROR = "_sidebar_upload_error"  # (file_id, message) of the last refused file
_AUTO = "_sidebar_auto_{}"  # the data's default last written to "gamma" / "period"
GAMMA = "gamma"  # the one session key (and URL name) of gamma: the bound control's
_UPLOADER = "w_upload"

# What a page can use of the sidebar (render_sidebar's `uses`).
SECTIONS = frozenset({"data", "seed", "precision", "kernel", "batching"})
UNUSED_KEY = "sidebar_unused"  # container of the controls a page does not use: drawn, hidden

_PARAM_SPECS = kernel_param_specs()
_PARAM_GRIDS = {p.name: log_grid(p.low, p.high, p.default) for p in _PARAM_SPECS.values() if p.log}
_DTYPES = ["float32", "float64"]
# The sidebar's URL names, shared by every page: its controls' keys, and each kernel
# parameter's besides gamma (`_PARAM_SPECS`), keyed by its name.
URL = url_keys("sidebar", **{name: name for name in ("dataset", "n", "noise", "seed", "dtype", "kernel",
                                                     GAMMA, "method", *_PARAM_SPECS)})


def _on_upload() -> None:
    """Validate a new file; a good one becomes the data, a bad one keeps the previous data."""
    ss = st.session_state
    file = ss.get(_UPLOADER)
    if file is None:
        return
    try:
        table = load_table(file)
    except DataError as err:
        ss[_UPLOAD_ERROR] = (file.file_id, f"{code(file.name, 80)} was not loaded: {err}")
        return
    sha = hashlib.sha1(table.tobytes()).hexdigest()[:16]
    ss[_UPLOAD] = Upload(file.name, sha, table, tuple(describe_table_warnings(table)))
    ss[_UPLOAD_ERROR] = None
    ss["dataset"] = UPLOAD


def _upload_error(file: Any) -> str | None:
    """The refusal of `file` (the uploader's file), if it was refused; None once it is gone.

    The uploader is drawn per page, so on another page it is empty and the error
    of a file refused elsewhere is not shown there.
    """
    error = st.session_state.get(_UPLOAD_ERROR)
    return error[1] if error and file is not None and file.file_id == error[0] else None


def _follow_data(data: Data, kernel: str) -> dict[str, float]:
    """Set "gamma" (and "period") to the data's defaults for `kernel` unless someone chose them.

    Returns:
      The defaults on the controls' grids, {"gamma": ..., "period": ...} (period
      only for the periodic kernel).
    """
    ss = st.session_state
    values = data_defaults(data, kernel)
    auto = {"gamma": snap_gamma(values["gamma"])}
    if "period" in values:
        auto["period"] = snap_log(_PARAM_GRIDS["period"], values["period"])
    for name, value in auto.items():
        if from_link(name):  # a shared link's value wins; refused, the widget shows `value`
            ss[_AUTO.format(name)] = value
            continue
        if ss.get(name) is None or ss.get(name) == ss.get(_AUTO.format(name)):
            if ss.get(name) != value:
                _set(name, value)
            ss[_AUTO.format(name)] = value
    return auto


def _set(name: str, value: float) -> None:
    """Give a data-defaulted control ("gamma", "period") a value of its grid, before it is drawn."""
    st.session_state[name] = snap_gamma(value) if name == GAMMA else snap_log(_PARAM_GRIDS[name], value)


def set_gamma(value: float) -> None:
    """The one setter of gamma: the bound control's value becomes the grid's value nearest to
    `value`, and the slider, the URL, the "set by you" caption and every page follow.

    Call it before the gamma control is drawn in a run, or from a widget's callback (the
    live heatmap's release does, through `hand_released_gamma`).
    """
    _set(GAMMA, value)


def _reset_to_data(auto: dict[str, float]) -> None:
    for name, value in auto.items():
        _set(name, value)
        st.session_state[_AUTO.format(name)] = value


_HIDDEN_SLIDER = "gamma_bound"  # container key of a gamma control that another slider shows


def gamma_slider(container: Any, settings: Settings, shown: bool = True) -> float:
    """The gamma slider (log scale) and its note on the data's default, drawn in `container`
    by a page that shows gamma itself (`render_sidebar(gamma_in_page=True)`).

    gamma follows the data's default for the kernel (the median heuristic for RBF)
    until the user (or code, through `set_gamma`) sets another value; the reset button
    returns to it. Callable inside a fragment: only it reruns then.

    Args:
      shown: False where another slider shows gamma (the live heatmap's): the bound
        control is still drawn, hidden, so that gamma stays in the URL and across
        pages; its caption and reset button stay visible.

    Returns:
      The gamma now shown (a float of `GAMMAS`).
    """
    auto = _follow_data(load_data(settings), settings.kernel)
    gamma = _gamma_control(container, auto, shown)
    _data_default_note(container, settings.kernel, auto)
    return gamma


def _gamma_control(container: Any, auto: dict[str, float], shown: bool = True) -> float:
    where = container
    if not shown:
        where = container.container(key=_HIDDEN_SLIDER)
        st.html(f"<style>.st-key-{_HIDDEN_SLIDER} {{display: none;}}</style>")
    # The widget's own default is the data's: Streamlit leaves a control at its
    # default out of the URL, and a link opened elsewhere computes the same default.
    return bound(where.select_slider, "gamma (log scale)", key=GAMMA, options=GAMMAS,
                 value=auto[GAMMA], format_func=grid_label,
                 help="K = exp(-gamma·d²). Small gamma: every point looks alike (K → ones); "
                      "large gamma: only a point itself (K → identity).")


def _data_default_note(container: Any, kernel: str, auto: dict[str, float]) -> None:
    """Whether the kernel's data-derived parameters (gamma, the period) still follow the
    data, and the button that resets them to it; drawn after their controls.

    Each is compared with the data's default as its control holds it now: a period
    set by the user with gamma left alone is "set by you", not "follows the data".
    """
    ss = st.session_state
    names = [p.name for p in KERNELS[kernel].params if p.name in auto]
    chosen = [name for name in names if ss.get(name, auto[name]) != auto[name]]
    rule = DATA_DEFAULT_RULES[kernel]
    if not chosen:
        text = f"gamma follows {rule}."
    else:
        defaults = ", ".join(f"{name} = {grid_label(auto[name])}" for name in names)
        text = f"{' and '.join(chosen)} set by you. The data's default: {defaults}."
    container.caption(text)
    container.button("Reset gamma to the median heuristic" if "median heuristic" in rule
                     else "Reset to the data's default", on_click=_reset_to_data, args=(auto,),
                     disabled=not chosen, key="w_reset_gamma")


def hand_released_gamma(component_key: str) -> None:
    """The one place a live heatmap's released gamma meets the app's state (a widget callback).

    The component's `gamma` becomes the bound "gamma" control's value, which the
    fragment's rerun draws: the URL, the other pages and the "set by you" caption
    follow from there.
    """
    gamma = st.session_state[component_key].gamma
    if gamma is not None:
        set_gamma(float(gamma))


def with_current_gamma(settings: Settings) -> Settings:
    """The run's `settings`, in a fragment's rerun with the gamma the control holds now
    (the full run built them before the fragment's slider moved); the same object when
    gamma has not moved."""
    gamma = st.session_state.get(GAMMA, settings.gamma)
    return settings if gamma == settings.gamma else dataclasses.replace(settings, gamma=gamma)


def _n_cap(dataset: str, upload: Upload | None) -> int:
    """The largest N for `dataset`: its rows (real data, an upload), at most N_MAX."""
    if dataset == UPLOAD and upload is not None:
        return min(N_MAX, upload.X.shape[0])
    available = DATASETS[dataset].n_available if dataset in DATASETS else None
    return N_MAX if available is None else min(N_MAX, available)


def _data_controls(top: Any, sb: Any, own_seed: bool,
                   note: str | None = None) -> tuple[str, int, Upload | None]:
    """Dataset, N, noise, seed and the upload; returns (dataset, n, upload).

    Args:
      sb: where the data controls go: the sidebar, or the hidden container on a
        page that ignores the data.
      own_seed: the page ignores the data but draws its own with the Seed: the
        Seed is then shown in the sidebar whatever the dataset (otherwise it is
        drawn beside the data where the dataset has one).
      note: a caption under the header, for a page that uses only some of these.
    """
    ss = st.session_state
    if own_seed or sb is st.sidebar:
        st.sidebar.header("Data")
        if note:
            st.sidebar.caption(note)
    upload = ss.get(_UPLOAD)
    options = list(DATASETS) + ([UPLOAD] if upload else [])
    label = (lambda name: f"Your upload: {upload.name}" if name == UPLOAD and upload
             else DATASETS[name].label if name in DATASETS else str(name))
    dataset = bound(sb.selectbox, "Dataset", options, key=URL.dataset, format_func=label,
                    notices=top)
    spec = DATASETS.get(dataset)
    cap = _n_cap(dataset, upload)
    if cap <= N_MIN:
        n = cap
        sb.caption(f"N = {cap}: every row of the data.")
    else:
        if ss.get("n", DEFAULT_N) > cap:
            ss["n"] = cap  # before the slider: it shows the cap, not a value it cannot hold
        n = bound(sb.slider, "Number of points N", key=URL.n, min_value=N_MIN, max_value=cap,
                  value=min(DEFAULT_N, cap), step=10 if cap >= 200 else 1, notices=top,
                  help="Rows of X. The Gram matrix has N² entries; real datasets and uploads "
                       "cap N at their number of rows.")
    if spec is not None and spec.uses_noise:
        bound(sb.slider, "Noise", key=URL.noise, min_value=0.0, max_value=1.0, value=0.1, step=0.01,
              notices=top)
    if own_seed or spec is None or spec.uses_seed:
        bound((st.sidebar if own_seed else sb).number_input, "Seed", key=URL.seed, min_value=0,
              max_value=2**31 - 1, value=0, step=1, notices=top)
    with sb.expander("Upload CSV or .npy", expanded=_upload_error(ss.get(_UPLOADER)) is not None):
        file = st.file_uploader("Your own data: rows are points, columns are features",
                                key=_UPLOADER, on_change=_on_upload,
                                help=f"CSV/TSV with an optional header, or a 2-D .npy array; "
                                     f"at most {MAX_TABLE_BYTES // 1_000_000} MB.")
        error = _upload_error(file)
    if error:  # once, in the main area (a narrow screen hides the sidebar): this page only,
        # while the refused file sits in the uploader. It was also drawn under the uploader.
        top.error(error + " The previous data is still in use.", icon=":material/error:")
    if dataset == UPLOAD and upload is not None:
        for warning in upload.warnings:
            sb.warning(warning, icon=":material/warning:")
    return dataset, n, upload if dataset == UPLOAD else None


def _kernel_param_controls(kernel: str, top: Any, sb: Any, auto: dict[str, float]) -> None:
    """The kernel's parameters but gamma. A parameter that follows the data (the period)
    has the data's default as its widget's default, as gamma has: Streamlit leaves a
    control at its widget default out of the URL, and with the fixed default (period 1)
    a period of 1 vanished from the URL and a copied link opened the data's 141."""
    for p in KERNELS[kernel].params:
        if p.name == "gamma":
            continue
        if p.log:
            bound(sb.select_slider, p.label, key=p.name, options=_PARAM_GRIDS[p.name],
                  value=auto.get(p.name, p.default), format_func=grid_label, notices=top)
        elif p.integer:
            bound(sb.slider, p.label, key=p.name, min_value=int(p.low), max_value=int(p.high),
                  value=int(p.default), step=1, notices=top)
        else:
            bound(sb.slider, p.label, key=p.name, min_value=float(p.low), max_value=float(p.high),
                  value=float(p.default), step=(p.high - p.low) / 200, notices=top)


def _unused_container() -> Any:
    """The sidebar's hidden container: controls a page does not use are drawn there.

    They stay bound (in the URL, kept across pages; a shared link's value is still
    checked) but are not shown: a page shows only the controls that change it.
    """
    unused = st.sidebar.container(key=UNUSED_KEY)
    st.html(f"<style>.st-key-{UNUSED_KEY} {{display: none;}}</style>")
    return unused


def render_sidebar(gamma_in_page: bool = False, data_note: str | None = None,
                   uses: frozenset[str] = SECTIONS) -> Settings:
    """Draw the shared sidebar and return the current `Settings`.

    Args:
      gamma_in_page: the page draws `gamma_slider` itself (inside a fragment, so
        that dragging gamma reruns only the fragment); the sidebar says where it is.
      data_note: shown under "Data" (a page that uses only some of the sidebar
        says which).
      uses: the sections of `SECTIONS` the page reads; the others' controls are
        drawn hidden (bound to the URL, their values kept for the other pages).
        "seed" alone: the Seed is shown whatever the dataset (the page draws its
        own seeded data).
    """
    assert uses <= SECTIONS, uses - SECTIONS
    ss = st.session_state
    top = st.container()  # main area, above the page: URL notices, a refused upload
    for notice in start():
        top.warning(notice, icon=":material/link_off:")
    collapse_sidebar_when_narrow()
    unused = _unused_container() if uses != SECTIONS else None
    where = {name: st.sidebar if name in uses else unused for name in SECTIONS}
    dataset, n, upload = _data_controls(top, where["data"], "seed" in uses and "data" not in uses,
                                        data_note)

    sb = where["kernel"]
    if "kernel" in uses:
        sb.header("Kernel")
    # Under "Kernel" where the kernel is shown; alone, its own label says what it is.
    dtype = bound(where["precision"].radio, "Precision", _DTYPES, key=URL.dtype, horizontal=True,
                  notices=top)
    kernel = bound(sb.selectbox, "Kernel", list(KERNELS), key=URL.kernel,
                   format_func=lambda k: KERNELS[k].label, notices=top)
    choice = DataChoice(dataset=dataset, n=n, noise=ss.get("noise", 0.1), seed=int(ss.get("seed", 0)),
                        dtype=dtype, upload=upload)
    auto = _follow_data(load_data(choice), kernel)  # every kernel: a switch back to one with gamma finds it
    gamma = auto["gamma"]
    has_gamma = any(p.name == GAMMA for p in KERNELS[kernel].params)
    if has_gamma:
        if gamma_in_page:
            # No value here: a fragment rerun redraws the page's slider, not the sidebar.
            sb.caption("gamma: its slider is beside the matrix on this page.")
            gamma = ss.get(GAMMA, gamma)
        else:
            gamma = _gamma_control(sb, auto)
    _kernel_param_controls(kernel, top, sb, auto)
    if has_gamma and not gamma_in_page:  # after the period: it reads what that control holds
        _data_default_note(sb, kernel, auto)

    sb_batching = where["batching"]
    if "batching" in uses:
        sb_batching.header("Batching")
    method = bound(sb_batching.selectbox, "Batching method (RBF Gram matrix)", list(METHODS),
                   key=URL.method, index=list(METHODS).index("auto"),
                   format_func=lambda m: METHODS[m].label, notices=top,
                   help="How the Gram matrix is batched. 'auto' picks the fastest accurate method.")
    return Settings(**vars(choice), kernel=kernel, gamma=gamma, method=method,
                    kernel_params={name: ss.get(name, p.default) for name, p in _PARAM_SPECS.items()})
