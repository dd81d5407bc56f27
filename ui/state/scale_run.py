"""The Scale page's block runs in the session: started by a click, stepped under a progress
bar, kept when finished (the last few, keyed on every setting they depend on), and
shown as partial when a click or a new setting interrupted them.
"""

from __future__ import annotations

import time

import numpy as np
import streamlit as st

from core.errors import CoreError
from core.views.scale import block_results, start_blocks
from ui.charts.scale import pooled_heatmap, progress_text
from ui.state.long_work import interruption_check
from ui.state.url import url_keys

__all__ = ["URL", "start_run", "run_requested", "compute", "adopt_last_run", "KEPT_RESULTS"]

PROGRESS_EVERY_S = 0.2  # progress text redraws at most this often
LIVE_HEATMAP_EVERY_S = 3.0  # the partial heatmap redraws at most this often
KEPT_RESULTS = 3

# The Scale page's URL names: its synthetic points, gamma's factor and the rows per step.
URL = url_keys("scale", n="w_scale_n", d="w_scale_d", kind="w_scale_kind", seed="w_scale_seed",
               gamma="w_scale_gamma", rows="w_scale_rows")


def start_run(key: tuple) -> None:
    """The Compute button's callback: ask for a run of `key`, forgetting any earlier one."""
    ss = st.session_state
    ss["_scale_job"] = key
    ss["_scale_results"].pop(key, None)
    ss["_scale_partial"] = None


def run_requested(key: tuple) -> bool:
    """Whether the Compute button asked for a run of `key` in this run of the page (once)."""
    return st.session_state.pop("_scale_job", None) == key


def compute(key: tuple, X: np.ndarray, gamma: float, rows: int | None) -> None:
    """Run the block engine under a progress bar; keep the result only if it finishes."""
    try:
        run = start_blocks(X, gamma, rows)
    except (CoreError, ValueError) as err:
        st.error(f"The block engine could not start: {err}", icon=":material/error:")
        return
    # The run itself goes into the session before it starts: when a click or a new
    # setting interrupts it, Streamlit raises at its next call (even an assignment
    # to st.session_state), so nothing could be stored on the way out. The next
    # page run finds it here, finished or not (`adopt_last_run`).
    st.session_state["_scale_active"] = dict(key=key, run=run)
    n = run.plan.n
    bar = st.progress(0.0, text="Compiling the block step (the first step includes it)…")
    stop_slot = st.empty()
    stop_slot.button("Stop", key="w_scale_stop", icon=":material/stop:",
                     help="Abandons the computation after the current step; what was done is "
                          "shown as partial.")
    live = st.empty()
    check = interruption_check()
    last_text = last_live = time.perf_counter()
    for p in run.steps():
        now = time.perf_counter()
        if now - last_text >= PROGRESS_EVERY_S:
            bar.progress(p.fraction, text=progress_text(p.done_rows, n, p.elapsed_s, p.eta_s))
            last_text = now
        if now - last_live >= LIVE_HEATMAP_EVERY_S and not run.complete:
            partial = block_results(run.result())
            live.plotly_chart(pooled_heatmap(partial["pooled"], int(partial["pool_factor"]), n,
                                             "K so far", int(partial["done_rows"])),
                              key=f"w_scale_live_{p.done_rows}")
            last_live = now
        if not run.complete:
            check()
    adopt_last_run()
    st.rerun()  # redraw without the progress bar and the Stop button


def adopt_last_run() -> None:
    """File the last run away: a finished one as a result, an interrupted one as partial."""
    ss = st.session_state
    active = ss.get("_scale_active")
    if active is None:
        return
    run = active["run"]
    if run.complete:
        results = ss["_scale_results"]
        results[active["key"]] = run.result()
        while len(results) > KEPT_RESULTS:
            results.pop(next(iter(results)))
    else:
        ss["_scale_partial"] = dict(key=active["key"], result=run.result())
    ss["_scale_active"] = None  # frees the run's device copies of the data
