"""The Kernel lab's own controls and caches.

The lab's kernel is set on the page (so it can be a sum or a product), each control
bound to the URL under `w_kern_...`. Buttons set gamma and the jitter through session
state (`set_gamma`, `set_jitter`), and the jitter follows the smallest one with which
the grid's K factors until the user moves it (`follow_smallest_jitter`). The sections
of `core.views.kernels` are cached here (`cached_...`), each keyed on the kernel and
small scalars, a matrix by its key (never hashed itself).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import streamlit as st

from core.kernels.composite import KernelChoice
from core.kernels.functions import KERNELS, ParamSpec
from core.lessons.gp import spectrum_point
from core.views.kernels import (cholesky_with_jitter, data_gram, grid_gram, kernel_profile,
                                pd_diagnosis, prior_draws)
from ui.state.settings import log_grid, snap_log
from ui.state.url import bound, from_link, url_keys

__all__ = ["URL", "JITTERS", "DEFAULT_JITTER", "jitter_at_least", "kernel_select", "param_controls",
           "param_key", "kernel_controls", "gamma_keys", "set_gamma", "set_jitter", "follow_smallest_jitter",
           "diagnose", "cached_profile",
           "cached_grid_gram", "cached_data_gram", "cached_draws", "cached_diagnosis",
           "cached_factors", "cached_spectrum"]

JITTERS = tuple(float(f"{10.0 ** (k / 2):.3g}") for k in range(-24, 1))  # 1e-12 … 1, ½ decade
DEFAULT_JITTER = 1e-5
_AUTO_JITTER = "_kern_auto_jitter"  # the jitter the lab last chose by itself

# The lab's URL names: its controls, each kernel slot's kernel, and each slot's parameters
# (the family `w_kern_<slot>_<parameter>`, `param_key`).
_SLOTS = {"k1": "w_kern_k1", "k2": "w_kern_k2"}
URL = url_keys("kernels", prefixes=tuple(f"{key}_" for key in _SLOTS.values()), **_SLOTS,
               op="w_kern_op", grid_n="w_kern_grid_n", draws="w_kern_draws", seed="w_kern_seed",
               jitter="w_kern_jitter", sweep_on="w_kern_sweep_on")


def param_key(slot: str, name: str) -> str:
    """The URL name of parameter `name` of the kernel in `slot` ("k1" or "k2"): w_kern_k1_gamma."""
    return f"{URL[slot]}_{name}"


def _grid(spec: ParamSpec) -> tuple[float, ...]:
    return log_grid(spec.low, spec.high, spec.default)


def jitter_at_least(jitter: float) -> float:
    """The smallest jitter of the slider's grid that is at least `jitter` (1 at most)."""
    return next((j for j in JITTERS if j >= jitter), JITTERS[-1])


def kernel_select(slot: str, symbol: str, default: str) -> str:
    """The kernel of `slot` ("k1" or "k2"), keyed `w_kern_<slot>`."""
    return bound(st.selectbox, f"Kernel {symbol}", list(KERNELS), key=URL[slot],
                 index=list(KERNELS).index(default), format_func=lambda k: KERNELS[k].label)


def param_controls(slot: str, symbol: str, kernel: str) -> dict[str, float]:
    """Sliders for `kernel`'s parameters, keyed `w_kern_<slot>_<param>`."""
    values = {}
    for p in KERNELS[kernel].params:
        key = param_key(slot, p.name)
        label = f"{symbol} {p.label}" + (" (log scale)" if p.log else "")
        if p.log:
            # Buttons set it through session state; another kernel's grid may not hold it.
            if st.session_state.get(key) is not None:
                snapped = snap_log(_grid(p), st.session_state[key])
                if snapped != st.session_state[key]:
                    st.session_state[key] = snapped
            values[p.name] = bound(st.select_slider, label, options=_grid(p), value=p.default,
                                   key=key, format_func=lambda v: f"{v:.3g}")
        elif p.integer:
            values[p.name] = bound(st.slider, label, int(p.low), int(p.high), int(p.default),
                                   step=1, key=key)
        else:
            values[p.name] = bound(st.slider, label, float(p.low), float(p.high), float(p.default),
                                   step=(p.high - p.low) / 100, key=key)
    return values


def kernel_controls(op: str, first, second) -> tuple[str, dict[str, float], str, dict[str, float]]:
    """The lab's kernels and their parameters: k₁ in the container `first`, k₂ (unless `op`
    is "single") in `second`; returns (k1, p1, k2, p2), k2 "rbf" with no parameters if single."""
    with first:
        k1 = kernel_select("k1", "k₁", "rbf")
        p1 = param_controls("k1", "k₁", k1)
    if op == "single":
        return k1, p1, "rbf", {}
    with second:
        k2 = kernel_select("k2", "k₂", "periodic")
        return k1, p1, k2, param_controls("k2", "k₂", k2)


def gamma_keys(choice: KernelChoice) -> list[str]:
    """The keys of the gamma sliders the kernel has (one per component with a gamma)."""
    return [param_key(slot, "gamma") for slot, (_, params) in zip(("k1", "k2"), choice.parts)
            if "gamma" in dict(params)]


def set_gamma(keys: Sequence[str], gamma: float) -> None:
    """Button callback: every gamma slider in `keys` to the grid value nearest `gamma`."""
    for key in keys:
        st.session_state[key] = snap_log(_grid(KERNELS["rbf"].params[0]), gamma)


def set_jitter(jitter: float) -> None:
    """Button callback: the jitter slider to the smallest grid value at least `jitter`."""
    st.session_state[URL.jitter] = jitter_at_least(jitter)


def follow_smallest_jitter(need: float | None) -> float:
    """Set the jitter slider to the smallest grid value ≥ `need` (the smallest jitter with
    which the grid's K factors; None: unknown, DEFAULT_JITTER) while it still shows the
    lab's own last choice, so the draws work from the start.

    Call before the slider is drawn. A jitter the user moved is kept, and so is one a
    shared link names (its first run does not follow).

    Returns:
      The jitter it follows: the slider's widget default (`value=`), so a control at it
      stays out of the URL and a link follows the same K to it, while any other jitter,
      DEFAULT_JITTER included, is in the URL.
    """
    auto_jitter = DEFAULT_JITTER if need is None else jitter_at_least(need)
    ss = st.session_state
    if not from_link(URL.jitter) and (ss.get(URL.jitter, auto_jitter)
                                      == ss.get(_AUTO_JITTER, auto_jitter)):
        ss[URL.jitter] = auto_jitter
    ss[_AUTO_JITTER] = auto_jitter
    return auto_jitter


cached_profile = st.cache_data(max_entries=32, show_spinner=False)(kernel_profile)
cached_grid_gram = st.cache_data(max_entries=32, show_spinner=False)(grid_gram)


@st.cache_data(max_entries=4, show_spinner=False)
def cached_data_gram(data_key: tuple, choice: KernelChoice, seed: int, _X: np.ndarray,
                     _y: np.ndarray | None) -> dict[str, np.ndarray]:
    """`data_gram` of the sidebar's data (`data_key`: what it was loaded from)."""
    return data_gram(choice, _X, _y, str(_X.dtype), seed)


@st.cache_data(max_entries=32, show_spinner=False)
def cached_draws(choice: KernelChoice, n_grid: int, draws: int, seed: int, jitter: float,
                 dtype: str, _K_grid: np.ndarray) -> dict[str, np.ndarray]:
    """`prior_draws` on the grid of n_grid points (`_K_grid` is K there, in `dtype`)."""
    return prior_draws(choice, _K_grid, draws, seed, jitter, dtype)


@st.cache_data(max_entries=32, show_spinner=False)
def cached_diagnosis(matrix_key: tuple, _K: np.ndarray) -> dict[str, np.ndarray]:
    """`pd_diagnosis` of the matrix that `matrix_key` names."""
    return pd_diagnosis(_K)


def diagnose(matrix_key: tuple, K: np.ndarray, jitter: float) -> dict[str, np.ndarray]:
    """`pd_diagnosis` and `cholesky_with_jitter` of K, each from its cache.

    Raises:
      CholeskyError: K has NaN or infinite entries.
    """
    return cached_diagnosis(matrix_key, K) | cached_factors(matrix_key, float(jitter), K)


@st.cache_data(max_entries=64, show_spinner=False)
def cached_factors(matrix_key: tuple, jitter: float, _K: np.ndarray) -> dict[str, np.ndarray]:
    """`cholesky_with_jitter` of the matrix that `matrix_key` names."""
    return cholesky_with_jitter(_K, jitter)


@st.cache_data(max_entries=512, show_spinner=False)
def cached_spectrum(points_key: tuple, choice_at_gamma: KernelChoice, gamma: float, dtype: str,
                    _X: np.ndarray):
    """One point of the gamma sweep on the points `points_key` names.

    Keyed on the kernel *at this gamma*: dragging a gamma slider reuses the sweep.
    """
    return spectrum_point(choice_at_gamma, _X, gamma, dtype)
