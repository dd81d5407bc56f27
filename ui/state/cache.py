"""Caching for the UI layer: keyed on small scalars, never on large arrays.

`core` knows nothing of Streamlit; this module wraps the few `core` calls whose
results pages reuse across reruns (data, distances, the heuristic gamma) in
`st.cache_data` with bounded entries, so many sessions cannot exhaust memory.
Arrays are passed as `_`-prefixed arguments, which Streamlit does not hash: the
scalar key in front of them identifies them (see STYLE.md on hash collisions).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Callable

import numpy as np
import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from core.data import DATASETS
from core.kernels.functions import default_params_for, median_heuristic_gamma
from core.dense.methods import resolve
from core.views.data import builtin_data, subsample_rows
from core.views.gram import gram_distances, gram_kernel, gram_spectrum

if TYPE_CHECKING:
    from ui.state.settings import DataChoice, Settings

__all__ = ["Data", "load_data", "heuristic_gamma", "data_defaults", "sqdist", "gram_matrix",
           "spectrum_of"]


@dataclasses.dataclass(frozen=True)
class Data:
    """The current data: X (N, D) in the chosen dtype, labels y (N,) or None."""

    X: np.ndarray
    y: np.ndarray | None
    name: str
    key: tuple
    note: str = ""


@st.cache_data(max_entries=32, show_spinner=False)
def _builtin(name: str, n: int, seed: int, noise: float, dtype: str) -> tuple[np.ndarray, np.ndarray]:
    return builtin_data(name, n, seed, noise, dtype)


_HELD = "_cache_data"  # (data key, Data): the data this session's runs last loaded


def load_data(choice: DataChoice) -> Data:
    """The data the sidebar points at: a built-in set, or the upload `choice` carries.

    Loaded once per choice in a session: the sidebar, the gamma control's default and
    the page share the one `Data` (its arrays read-only), and a fragment's rerun finds it
    without reloading or copying it.
    """
    key, in_run = choice.data_key, get_script_run_ctx() is not None  # no session outside a run
    held = st.session_state.get(_HELD) if in_run else None
    if held is not None and held[0] == key:
        return held[1]
    data = _load(choice)
    for array in (data.X, data.y):
        if array is not None:
            array.setflags(write=False)
    if in_run:
        st.session_state[_HELD] = (key, data)
    return data


def _load(choice: DataChoice) -> Data:
    if choice.dataset == "upload":
        if choice.upload is None:
            raise ValueError("choice.dataset is 'upload' but choice.upload is None")
        full = choice.upload.X
        X = subsample_rows(full, choice.n, choice.seed).astype(choice.dtype)
        note = (f"Using {X.shape[0]:,} of {full.shape[0]:,} uploaded rows (seeded sample; "
                "raise N to use more)." if X.shape[0] < full.shape[0] else "")
        return Data(X, None, choice.upload.name, choice.data_key, note)
    spec = DATASETS[choice.dataset]
    _, n, noise, seed, dtype = choice.data_key
    X, y = _builtin(choice.dataset, n, seed, noise, dtype)
    note = ""
    if spec.n_available is not None and n >= spec.n_available:
        note = f"All {spec.n_available:,} rows of {spec.label}."
    return Data(X, y, spec.label, choice.data_key, note)


@st.cache_data(max_entries=64, show_spinner=False)
def _heuristic(key: tuple, _X: np.ndarray) -> float:
    return median_heuristic_gamma(_X)


def heuristic_gamma(choice: DataChoice) -> float:
    """The median-heuristic gamma of the current data (cached per data)."""
    data = load_data(choice)
    return _heuristic(data.key, data.X)


@st.cache_data(max_entries=64, show_spinner=False)
def _data_defaults(key: tuple, kernel: str, _X: np.ndarray) -> dict[str, float]:
    return default_params_for(kernel, _X)


def data_defaults(data: Data, kernel: str) -> dict[str, float]:
    """The parameters of `kernel` that suit `data` (`default_params_for`), with the RBF
    gamma for kernels without one (a switch back to one finds it); cached."""
    values = _data_defaults(data.key, kernel, data.X)
    if "gamma" not in values:
        values = {**values, "gamma": _heuristic(data.key, data.X)}
    return values


@st.cache_data(max_entries=8, show_spinner="Computing squared distances (once per data, method and dtype)…")
def _sqdist(key: tuple, method: str, ordered: bool, _X: np.ndarray, _order: np.ndarray) -> np.ndarray:
    n, d = _X.shape
    picked = resolve(method, n, n, d, _X.dtype)  # "auto": the method it picks for these data
    # Stored already in display order: a gamma change then needs one exp, no reindexing.
    return gram_distances(_X, distances=picked.distance_method, exact_diagonal=picked.zero_diagonal,
                          order=_order if ordered else None)


def sqdist(data: Data, method: str, order: np.ndarray | None = None) -> np.ndarray:
    """Squared distances of the data behind `method`'s Gram matrix, (N, N), cached.

    Keyed on (data, method, dtype, order): dragging gamma reuses them. `order` is
    a permutation of the points (the label order of the heatmaps), or None.
    """
    ordered = order is not None
    return _sqdist(data.key, method, ordered, data.X, order if ordered else np.arange(0))


@st.cache_data(max_entries=8, show_spinner="Computing the Gram matrix…")
def _other_gram(key: tuple, kernel: str, params: tuple, ordered: bool, _X: np.ndarray,
                _order: np.ndarray) -> np.ndarray:
    return gram_kernel(_X, None, kernel=kernel, params=dict(params), order=_order if ordered else None)


def gram_matrix(data: Data, settings: Settings, order: np.ndarray | None = None) -> np.ndarray:
    """K for the sidebar's kernel (rows and columns permuted by `order` if given):
    RBF via the chosen method's cached distances, any other kernel by jitted
    Method I (`gram`), cached on its parameters."""
    if settings.kernel == "rbf":
        return gram_kernel(data.X, sqdist(data, settings.method, order), kernel="rbf",
                           params=settings.params)
    ordered = order is not None
    return _other_gram(data.key, settings.kernel, tuple(sorted(settings.params.items())), ordered,
                       data.X, order if ordered else np.arange(0))


@st.cache_data(max_entries=16, show_spinner="Computing the eigenvalues (O(N³))…")
def spectrum_of(key: tuple, dtype: str, _K: Callable[[], np.ndarray]) -> dict[str, np.ndarray]:
    """The Gram explorer's `gram_spectrum(K(), dtype)`, cached on `key` (data, kernel,
    parameters, method, order): once per gamma (K is built only on a cache miss)."""
    return gram_spectrum(_K(), dtype)
