"""The shared sidebar: every choice a page depends on, kept in `st.session_state`.

Each page calls `render_sidebar()` first. That makes the sidebar work both under
`st.navigation` (app.py runs the page) and when a page runs alone (AppTest's
`switch_page`, which skips app.py). Widget values live in "canonical" session keys
(`_s_<field>`) that survive page switches: Streamlit forgets a widget's own key
when a page that does not draw it runs, so each widget is re-seeded from the
canonical key before it is drawn and writes back to it in its `on_change`.

The canonical state is mirrored in the URL (`st.query_params`), so copying the
address reproduces the view; bad URL values fall back to defaults with a notice.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from typing import Any, Callable

import numpy as np
import streamlit as st

from core.data import DATASETS, MAX_TABLE_BYTES, describe_table_warnings, load_table
from core.errors import DataError
from core.kernels.functions import KERNELS, ParamSpec
from core.dense.methods import METHODS
from ui.cache import heuristic_gamma
from ui.page_index import PAGES

__all__ = [
    "Settings",
    "render_sidebar",
    "gamma_slider",
    "current_gamma",
    "sync_url",
    "with_current_gamma",
    "gamma_grid",
    "snap_gamma",
    "log_grid",
    "snap_log",
    "UPLOAD",
    "N_MIN",
    "N_MAX",
    "DEFAULT_N",
]

UPLOAD = "upload"
N_MIN, N_MAX, DEFAULT_N = 10, 4000, 400
GAMMA_MIN_EXP, GAMMA_MAX_EXP, GAMMA_STEPS_PER_DECADE = -6, 4, 20
MAX_URL_VALUE = 64  # longer query values are refused outright


def gamma_grid() -> tuple[float, ...]:
    """The log-spaced gamma values of the slider, 20 per decade from 1e-6 to 1e4."""
    return log_grid(10.0**GAMMA_MIN_EXP, 10.0**GAMMA_MAX_EXP, 1.0, GAMMA_STEPS_PER_DECADE)


def snap_gamma(gamma: float) -> float:
    """The slider value nearest to `gamma` on a log scale."""
    return snap_log(_GAMMAS, gamma)


def snap_log(grid: tuple[float, ...], value: float) -> float:
    """The value of the log-spaced `grid` nearest to `value`."""
    return grid[int(np.argmin(np.abs(np.log10(grid) - math.log10(value))))]


def log_grid(low: float, high: float, anchor: float, per_decade: int = 20) -> tuple[float, ...]:
    """Log-spaced values in [low, high] through `anchor` (so a default is on the grid)."""
    ks = np.arange(math.ceil(per_decade * math.log10(low / anchor) - 1e-9),
                   math.floor(per_decade * math.log10(high / anchor) + 1e-9) + 1)
    return tuple(float(f"{anchor * 10 ** (k / per_decade):.4g}") for k in ks)


@dataclasses.dataclass(frozen=True)
class Settings:
    """What the user chose in the sidebar; pages read only this."""

    dataset: str
    n: int
    noise: float
    seed: int
    dtype: str
    kernel: str
    gamma: float
    kernel_params: dict[str, float]
    method: str
    upload_name: str | None = None
    upload_sha: str | None = None

    @property
    def data_key(self) -> tuple:
        """Small hashable key of the data (for caches keyed on scalars)."""
        if self.dataset == UPLOAD:
            return (UPLOAD, self.upload_sha, self.n, self.seed, self.dtype)
        spec = DATASETS[self.dataset]
        return (self.dataset, self.n, self.noise if spec.uses_noise else 0.0,
                self.seed if spec.uses_seed else 0, self.dtype)

    @property
    def params(self) -> dict[str, float]:
        """The kernel's full parameter dict, gamma included where it has one."""
        names = {p.name for p in KERNELS[self.kernel].params}
        out = {k: v for k, v in self.kernel_params.items() if k in names}
        if "gamma" in names:
            out["gamma"] = self.gamma
        return out


# --- fields: default, URL parser, widget key --------------------------------

def _parse_choice(options: Callable[[], Any]) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if raw not in options():
            raise ValueError("not one of the choices")
        return raw
    return parse


def _parse_number(kind: type, low: float, high: float) -> Callable[[str], Any]:
    def parse(raw: str):
        value = kind(float(raw)) if kind is int else float(raw)
        if not math.isfinite(value) or not low <= value <= high:
            raise ValueError(f"outside {low:g}…{high:g}")
        if kind is int and float(raw) != value:
            raise ValueError("not a whole number")
        return value
    return parse


def _kernel_param_specs() -> dict[str, ParamSpec]:
    specs: dict[str, ParamSpec] = {}
    for k in KERNELS.values():
        for p in k.params:
            if p.name != "gamma":
                specs.setdefault(p.name, p)
    return specs


_GAMMAS = gamma_grid()
_PARAM_SPECS = _kernel_param_specs()
_PARAM_GRIDS = {p.name: log_grid(p.low, p.high, p.default) for p in _PARAM_SPECS.values() if p.log}


@dataclasses.dataclass(frozen=True)
class _Field:
    name: str
    default: Any
    parse: Callable[[str], Any]


_FIELDS = {
    f.name: f
    for f in (
        _Field("dataset", "blobs", _parse_choice(lambda: DATASETS)),
        _Field("n", DEFAULT_N, _parse_number(int, N_MIN, N_MAX)),
        _Field("noise", 0.1, _parse_number(float, 0.0, 1.0)),
        _Field("seed", 0, _parse_number(int, 0, 2**31 - 1)),
        _Field("dtype", "float32", _parse_choice(lambda: ("float32", "float64"))),
        _Field("kernel", "rbf", _parse_choice(lambda: KERNELS)),
        _Field("gamma", None, _parse_number(float, _GAMMAS[0], _GAMMAS[-1])),
        _Field("method", "auto", _parse_choice(lambda: METHODS)),
        *(_Field(p.name, p.default, _parse_number(int if p.integer else float, p.low, p.high))
          for p in _PARAM_SPECS.values()),
    )
}

_CANON = "_s_"  # prefix of the canonical keys


def _get(name: str) -> Any:
    return st.session_state[_CANON + name]


def _set(name: str, value: Any) -> None:
    st.session_state[_CANON + name] = value


def _code(text: str, limit: int = 40) -> str:
    """User text shown as inline code: cut, and never markdown (no links, no HTML)."""
    text = text if len(text) <= limit else text[:limit] + "…"
    return "`" + text.replace("`", "'").replace("\n", " ") + "`"


def _init_state() -> None:
    """Defaults, then the URL's values (once per session), with notices for bad ones."""
    ss = st.session_state
    if ss.get("_s_initialised"):
        return
    for f in _FIELDS.values():
        ss.setdefault(_CANON + f.name, f.default)
    notices = []
    for key in st.query_params:
        raw = st.query_params.get(key, "")
        if _page_owned(key):
            continue
        if key not in _FIELDS:
            notices.append(f"Ignored unknown URL setting {_code(key)}.")
            continue
        try:
            if len(raw) > MAX_URL_VALUE:
                raise ValueError("too long")
            _set(key, _FIELDS[key].parse(raw))
        except (ValueError, OverflowError) as err:
            notices.append(f"URL value {key}={_code(raw)} ignored ({err}); using the default.")
    for name, grid in _PARAM_GRIDS.items():
        _set(name, snap_log(grid, _get(name)))
    if _get("gamma") is not None:
        _set("gamma", snap_gamma(_get("gamma")))
        ss["_s_gamma_follows_heuristic"] = False
    else:
        ss["_s_gamma_follows_heuristic"] = True
    ss["_s_url_notices"] = notices
    ss["_s_initialised"] = True


def _url_state() -> dict[str, str]:
    """The canonical state as query parameters (defaults and uploads left out)."""
    out = {}
    for f in _FIELDS.values():
        value = _get(f.name)
        if f.name == "dataset" and value == UPLOAD:
            continue  # an upload lives in this session only; a shared URL gets the default
        if f.name == "gamma" and st.session_state["_s_gamma_follows_heuristic"]:
            continue
        if value != f.default:
            out[f.name] = f"{value:.6g}" if isinstance(value, float) else str(value)
    return out


def _page_owned(key: str) -> bool:
    """A page's own control bound to the URL (`bind="query-params"`), keyed
    "<page address>_<name>" (e.g. fit_gamma): Streamlit keeps it, the sidebar leaves it be."""
    return any(key.startswith(info.url_path + "_") for info in PAGES.values())


def _sync_url() -> None:
    wanted = _url_state()
    mine = {k: v for k, v in st.query_params.to_dict().items() if not _page_owned(k)}
    if mine != wanted:
        # Key by key: a bound parameter may be neither set nor cleared through st.query_params.
        for key in set(mine) - set(wanted):
            del st.query_params[key]
        st.query_params.update(wanted)


# --- widgets bound to canonical keys -----------------------------------------

def _on_change(name: str) -> None:
    _set(name, st.session_state["w_" + name])
    st.session_state["_s_url_notices"] = []
    if name == "gamma":  # a gamma the user chose stays chosen when the data changes
        st.session_state["_s_gamma_follows_heuristic"] = False


def _bound(widget: Callable[..., Any], name: str, label: str, **kwargs: Any) -> Any:
    """Draw `widget` for canonical field `name`, seeded from and writing back to it."""
    st.session_state["w_" + name] = _get(name)
    return widget(label, key="w_" + name, on_change=_on_change, args=(name,), **kwargs)


def _reset_gamma() -> None:
    st.session_state["_s_gamma_follows_heuristic"] = True
    st.session_state["_s_url_notices"] = []


def _on_upload() -> None:
    """Validate a new upload; keep the previous data on any error."""
    file = st.session_state.get("w_upload")
    if file is None:
        return
    try:
        table = load_table(file)
    except DataError as err:
        st.session_state["_s_upload_error"] = f"{_code(file.name, 80)} was not loaded: {err}"
        return
    sha = hashlib.sha1(table.tobytes()).hexdigest()[:16]
    st.session_state["_s_upload"] = {"name": file.name, "sha": sha, "X": table,
                                      "warnings": describe_table_warnings(table)}
    st.session_state["_s_upload_error"] = None
    _set("dataset", UPLOAD)


def _dataset_label(name: str) -> str:
    if name == UPLOAD:
        upload = st.session_state.get("_s_upload")
        return f"Your upload: {upload['name']}" if upload else "Your upload"
    return DATASETS[name].label


def gamma_slider(container: Any, settings: Settings) -> float:
    """The gamma slider (log scale) and its reset button, drawn in `container`.

    gamma follows the median heuristic of the current data (`settings`' data)
    until the user moves the slider; the reset button returns to it. Applied here
    too, not only in `render_sidebar`, because in a fragment only this reruns.
    """
    following = st.session_state["_s_gamma_follows_heuristic"]
    if following:
        _set("gamma", snap_gamma(heuristic_gamma(settings)))
    _bound(container.select_slider, "gamma", "gamma (log scale)", options=_GAMMAS,
           format_func=lambda g: f"{g:.3g}",
           help="K = exp(-gamma·d²). Small gamma: every point looks alike (K → ones); "
                "large gamma: only a point itself (K → identity).")
    container.caption("gamma follows the median heuristic 1/(2·median d²)." if following
                      else "gamma set by you.")
    container.button("Reset gamma to the median heuristic", on_click=_reset_gamma,
                     disabled=following, key="w_reset_gamma")
    return _get("gamma")


def current_gamma() -> float:
    """The canonical gamma (what the sliders show)."""
    return _get("gamma")


def with_current_gamma(settings: Settings) -> Settings:
    """`settings` with the gamma the sliders hold now (after a fragment rerun)."""
    return dataclasses.replace(settings, gamma=_get("gamma"))


def sync_url() -> None:
    """Mirror the state in the URL; fragments call it after their own widgets change."""
    _sync_url()


def render_sidebar(gamma_in_page: bool = False) -> Settings:
    """Draw the shared sidebar and return the current `Settings`.

    Args:
      gamma_in_page: the page draws `gamma_slider` itself (inside a fragment, so
        that dragging gamma reruns only the fragment); the sidebar shows gamma.
    """
    _init_state()
    ss = st.session_state
    sb = st.sidebar
    for notice in ss.get("_s_url_notices", []):
        st.warning(notice, icon=":material/link_off:")

    sb.header("Data")
    options = list(DATASETS) + ([UPLOAD] if ss.get("_s_upload") else [])
    if _get("dataset") not in options:
        _set("dataset", _FIELDS["dataset"].default)
    _bound(sb.selectbox, "dataset", "Dataset", options=options, format_func=_dataset_label)
    dataset = _get("dataset")
    spec = DATASETS.get(dataset)
    n_cap = N_MAX if spec is None or spec.n_available is None else min(N_MAX, spec.n_available)
    if _get("n") > n_cap:
        _set("n", n_cap)
    _bound(sb.slider, "n", "Number of points N", min_value=N_MIN, max_value=max(n_cap, N_MIN + 1),
           step=10 if n_cap >= 200 else 1,
           help="Rows of X. The Gram matrix has N² entries; real datasets cap N at their size.")
    if spec is not None and spec.uses_noise:
        _bound(sb.slider, "noise", "Noise", min_value=0.0, max_value=1.0, step=0.01)
    if spec is None or spec.uses_seed:
        _bound(sb.number_input, "seed", "Seed", min_value=0, max_value=2**31 - 1, step=1)
    with sb.expander("Upload CSV or .npy", expanded=bool(ss.get("_s_upload_error"))):
        st.file_uploader("Your own data: rows are points, columns are features",
                         key="w_upload", on_change=_on_upload,
                         help=f"CSV/TSV with an optional header, or a 2-D .npy array; "
                              f"at most {MAX_TABLE_BYTES // 1_000_000} MB.")
    if dataset == UPLOAD:
        for warning in ss["_s_upload"]["warnings"]:
            sb.warning(warning, icon=":material/warning:")
    if ss.get("_s_upload_error"):
        sb.error(ss["_s_upload_error"], icon=":material/error:")
        st.error(ss["_s_upload_error"] + " The previous data is still in use.", icon=":material/error:")

    sb.header("Kernel")
    _bound(sb.radio, "dtype", "Precision", options=["float32", "float64"], horizontal=True)
    _bound(sb.selectbox, "kernel", "Kernel", options=list(KERNELS),
           format_func=lambda k: KERNELS[k].label)
    kernel = KERNELS[_get("kernel")]
    upload = ss.get("_s_upload") if dataset == UPLOAD else None
    settings = Settings(
        dataset=dataset, n=_get("n"), noise=_get("noise"), seed=_get("seed"), dtype=_get("dtype"),
        kernel=kernel.name, gamma=1.0,
        kernel_params={p: _get(p) for p in _PARAM_SPECS}, method=_get("method"),
        upload_name=upload["name"] if upload else None, upload_sha=upload["sha"] if upload else None,
    )
    if ss["_s_gamma_follows_heuristic"]:  # kept for every kernel: a switch back finds it
        _set("gamma", snap_gamma(heuristic_gamma(settings)))
    if any(p.name == "gamma" for p in kernel.params):
        if gamma_in_page:
            # No value here: a fragment rerun redraws the page's slider, not the sidebar.
            sb.caption("gamma: its slider is beside the matrix on this page.")
        else:
            gamma_slider(sb, settings)
    for p in kernel.params:
        if p.name == "gamma":
            continue
        if p.log:
            _bound(sb.select_slider, p.name, p.label, options=_PARAM_GRIDS[p.name],
                   format_func=lambda v: f"{v:.3g}")
        elif p.integer:
            _bound(sb.slider, p.name, p.label, min_value=int(p.low), max_value=int(p.high), step=1)
        else:
            _bound(sb.slider, p.name, p.label, min_value=float(p.low), max_value=float(p.high),
                   step=(p.high - p.low) / 200)

    sb.header("Batching")
    _bound(sb.selectbox, "method", "Batching method (RBF Gram matrix)", options=list(METHODS),
           format_func=lambda m: METHODS[m].label,
           help="How the Gram matrix is batched. 'auto' picks the fastest accurate method.")
    _sync_url()
    return dataclasses.replace(settings, gamma=_get("gamma"),
                               kernel_params={p: _get(p) for p in _PARAM_SPECS})
