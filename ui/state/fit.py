"""The Fit page's state: its control grids, its caches (keyed on scalars) and callbacks.

The page has its own data with a target (a built-in set or the user's upload), so it
keeps the uploaded table, the clicked point and the climb in the session here; every
number it draws comes from `core.views.fit`'s sections.
"""

from __future__ import annotations

import hashlib

import numpy as np
import streamlit as st

from core.data.regression import load_regression, regression_from_table
from core.data.uploads import load_table
from core.errors import DataError
from core.lessons.fit.compare import GAMMA_RANGE, NOISE_RANGE
from core.views.fit import surface_section
from ui.state.settings import log_grid, snap_log
from ui.state.url import bound, url_keys

__all__ = ["URL", "N_CHOICES", "NOISE_SD_CHOICES", "SIDE_CHOICES", "STEP_CHOICES", "RATE_CHOICES",
           "GAMMAS", "NOISES", "AMPLITUDES", "builtin_fit_data", "upload_fit_data", "uploaded_fit_data", "surface",
           "read_upload", "choose_clicked_point", "move_to", "kept", "keep"]

N_CHOICES = (20, 50, 100, 200, 400, 800)
NOISE_SD_CHOICES = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0)
SIDE_CHOICES = (16, 32, 48, 64, 96)
STEP_CHOICES = (25, 50, 100, 200, 400)
RATE_CHOICES = (0.01, 0.03, 0.1, 0.3)
GAMMAS = log_grid(*GAMMA_RANGE, 1.0, 10)
NOISES = log_grid(*NOISE_RANGE, 1.0, 10)
AMPLITUDES = log_grid(1e-2, 1e2, 1.0, 10)

# The page's URL names: its own data (and an upload's target column), grid, chosen point, climb.
URL = url_keys("fit", dtype="fit_dtype", data="fit_data", n="fit_n", noise_sd="fit_noise_sd",
               seed="fit_seed", target="fit_target", side="fit_side", amp="fit_amp", gamma="fit_gamma",
               noise="fit_noise", steps="fit_steps", rate="fit_rate")


@st.cache_data(max_entries=16, show_spinner=False)
def builtin_fit_data(name: str, n: int, noise_sd: float, seed: int, dtype: str):
    """A built-in set with a target (`core.data.regression.load_regression`)."""
    return load_regression(name, n, noise_sd, seed, dtype)


@st.cache_data(max_entries=8, show_spinner=False)
def upload_fit_data(sha: str, target: int, n: int, seed: int, dtype: str, _table: np.ndarray):
    """The uploaded table (identified by its hash `sha`) with column `target` as y."""
    return regression_from_table(_table, target, n, seed, dtype)


@st.cache_data(max_entries=16, show_spinner="Computing the surface: one jitted call …")
def surface(data_key: tuple, side: int, amplitude: float, _X: np.ndarray, _y: np.ndarray):
    """`core.views.fit.surface_section` for the data `data_key` names (its last item: the dtype)."""
    return surface_section(_X, _y, data_key[-1], side, amplitude)


def uploaded_fit_data(n: int, seed: int, dtype: str):
    """The uploader, and once a table is read its target column (bound to the URL as
    `fit_target`): (data, data_key, 0-based target). Without a usable table: a message,
    then `st.stop()`."""
    st.file_uploader("A table with a target column: CSV or .npy, rows are points", key="fit_upload",
                     on_change=read_upload, help="Read as numbers only; nothing in it is run.")
    upload = st.session_state.get("_fit_table")
    if upload is None:
        st.info("Upload a table to fit: one of its columns is the target, the others the features.",
                icon=":material/upload:")
        st.stop()
    if upload[0] == "error":
        st.error(f"The file was not loaded: {upload[1]}", icon=":material/error:")
        st.stop()
    sha, table = upload
    target = bound(st.number_input, "Target column (1 = the first)", 1, table.shape[1], table.shape[1],
                   key=URL.target) - 1
    try:
        data = upload_fit_data(sha, target, n, seed, dtype, table)
    except DataError as err:
        st.error(str(err), icon=":material/error:")
        st.stop()
    return data, ("upload", sha, target, n, seed, dtype), target


def read_upload() -> None:
    """on_change of the uploader: read the table once; keep a message for a bad file."""
    file = st.session_state.get("fit_upload")
    st.session_state["_fit_table"] = None
    if file is not None:
        try:
            table = load_table(file)
        except DataError as err:
            st.session_state["_fit_table"] = ("error", str(err))
        else:
            st.session_state["_fit_table"] = (hashlib.sha1(table.tobytes()).hexdigest()[:16], table)


def choose_clicked_point() -> None:
    """on_select of the surface: the clicked cell becomes the chosen point."""
    points = st.session_state["fit_surface"]["selection"]["points"]
    if points:
        st.session_state[URL.gamma] = snap_log(GAMMAS, 10.0 ** points[0]["x"])
        st.session_state[URL.noise] = snap_log(NOISES, 10.0 ** points[0]["y"])


def move_to(gamma: float, noise: float, amplitude: float) -> None:
    """on_click of "Move the chosen point to the climb's end"."""
    st.session_state[URL.gamma] = snap_log(GAMMAS, gamma)
    st.session_state[URL.noise] = snap_log(NOISES, noise)
    st.session_state[URL.amp] = snap_log(AMPLITUDES, amplitude)


def kept(name: str, key: tuple):
    """What the session keeps under `_fit_<name>` for `key` (a climb, a timing), or None."""
    held = st.session_state.get(f"_fit_{name}")
    return held["value"] if held and held["key"] == key else None


def keep(name: str, key: tuple, value) -> None:
    """Keep `value` under `_fit_<name>` for `key` (what `kept` returns while the key holds)."""
    st.session_state[f"_fit_{name}"] = {"key": key, "value": value}
