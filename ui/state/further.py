"""The "vmap, further" page's state: results kept per session, the open tab's controls, and
the page's URL names (the open tab, each tab's controls: drawn by its module in ui/further/).
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from ui.state.url import url_keys

__all__ = ["URL", "COLLECTIVES_URL", "CONTROL_URL", "RANDOMNESS_URL", "JACOBIANS_URL", "MEMORY_URL",
           "FORMS_URL", "CUSTOM_URL", "DEVICES_URL", "once_per_key", "tab_controls", "COLLECTIVE_MAX_ROWS", "CONTROL_MAX_ROWS", "COND_FRACTIONS",
           "JACOBIAN_SIZES", "SWEEP_SIZES", "MEMORY_MAX_ROWS", "FORMS_JAXPR_ROWS", "CALLBACK_MAX_ROWS",
           "DEVICES_MAX_ROWS"]

# Each tab's row cap and fixed choices: what its render function draws and what its view
# (`core.views.further.TAB_VIEWS`) is called with.
COLLECTIVE_MAX_ROWS = 300
CONTROL_MAX_ROWS = 2000
COND_FRACTIONS = (0.0, 0.25, 0.5, 0.75, 1.0)  # shares of rows that take the costly branch
JACOBIAN_SIZES = (2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)
SWEEP_SIZES = (4, 16, 64, 256, 1024)
MEMORY_MAX_ROWS = 2000
FORMS_JAXPR_ROWS = 5
CALLBACK_MAX_ROWS = 100
DEVICES_MAX_ROWS = 1000

# The page's URL names: the open tab, then each tab's controls (drawn by its module in
# ui/further/, read back here by `tab_controls`).
URL = url_keys("further", topic="further_topic")
COLLECTIVES_URL = url_keys("further", collective="further_collective", copies="further_copies")
CONTROL_URL = url_keys("further", decades="further_decades")
RANDOMNESS_URL = url_keys("further", key_seed="further_key_seed", noise_scale="further_noise_scale")
JACOBIANS_URL = url_keys("further", n="further_jac_n", m="further_jac_m", vary="further_jac_vary")
MEMORY_URL = url_keys("further", k="further_knn_k")
FORMS_URL = url_keys("further", rows="further_forms_rows")
CUSTOM_URL = url_keys("further", vmap_method="further_vmap_method")
DEVICES_URL = url_keys("further", way="further_devices_way")


def once_per_key(name: str, key: tuple, compute):
    """`compute()` once per `key` in this session (timings are not redone on every rerun)."""
    held = st.session_state.get(f"_further_{name}")
    if held is None or held[0] != key:
        held = (key, compute())
        st.session_state[f"_further_{name}"] = held
    return held[1]


def tab_controls(tab: str) -> dict[str, Any]:
    """The open tab's own controls, as its render function read them, and its row caps:
    the keyword arguments of its view (`core.views.further.TAB_VIEWS[tab]`)."""
    ss = st.session_state
    return {
        "Collectives": lambda: dict(collective=ss[COLLECTIVES_URL.collective],
                                    copies=int(ss[COLLECTIVES_URL.copies]), max_rows=COLLECTIVE_MAX_ROWS),
        "Control flow": lambda: dict(decades=int(ss[CONTROL_URL.decades]),
                                     fractions=list(COND_FRACTIONS), max_rows=CONTROL_MAX_ROWS),
        "Random keys": lambda: dict(key_seed=int(ss[RANDOMNESS_URL.key_seed]),
                                    noise_scale=float(ss[RANDOMNESS_URL.noise_scale])),
        "Jacobians": lambda: dict(n=int(ss[JACOBIANS_URL.n]), m=int(ss[JACOBIANS_URL.m]),
                                  vary=ss[JACOBIANS_URL.vary].split()[-1],
                                  sweep_sizes=list(SWEEP_SIZES)),
        "Memory": lambda: dict(k=int(ss[MEMORY_URL.k]), max_rows=MEMORY_MAX_ROWS),
        "Vectorize": lambda: dict(rows=int(ss[FORMS_URL.rows])),
        "Custom batching": lambda: dict(max_rows=CALLBACK_MAX_ROWS),
        "Devices": lambda: dict(way=ss[DEVICES_URL.way], max_rows=DEVICES_MAX_ROWS),
    }[tab]()
