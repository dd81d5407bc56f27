"""The Batching race's runs: a race (or scaling run) under a progress bar and a Stop button.

A run is marked in the session while it works and unmarked when it ends; a mark
left over means a click or a new setting interrupted it (the page says so once).
"""

from __future__ import annotations

import datetime
from typing import Any, Callable

import streamlit as st

from core.bench.race import RaceRow
from core.bench.timing import TimingCancelled
from core.bench.report import format_seconds
from ui.state.long_work import should_stop_for_streamlit
from ui.state.url import url_keys

__all__ = ["URL", "run_with_progress", "interrupted_run"]

# The Batching race's URL names: the race's methods, repeats and budget; the scaling run's N
# values and methods.
URL = url_keys("race", methods="w_race_methods", repeats="w_race_repeats", budget="w_race_budget",
               scale_n="w_race_scale_n", scale_methods="w_race_scale_methods")

_RUNNING = "_race_running"


def interrupted_run() -> str | None:
    """What the last run was ("race", "scaling run") if it stopped before it finished; once."""
    return st.session_state.pop(_RUNNING, None)


def run_with_progress(what: str, steps: int, work: Callable[..., dict[str, Any]],
                      describe: Callable[[int, str], str], show_n: bool = False
                      ) -> dict[str, Any] | None:
    """Run `work(on_step=..., on_row=..., should_stop=...)` under a progress bar and status.

    Returns what `work` returns, or None if the run was cancelled or failed (message
    shown). `describe(i, name)` names step i of `steps` for the status line; `show_n`
    puts each row's N in its line of the log.
    """
    st.session_state[_RUNNING] = what  # cleared on completion: a leftover means it was interrupted
    progress = st.progress(0.0, text=f"Starting the {what}…")
    stop_slot = st.empty()
    stop_slot.button("Stop", key=f"w_race_stop_{what.split()[0]}", icon=":material/stop:",
                     help="Abandons this run; nothing from it is kept.")
    started = datetime.datetime.now()
    done: dict[str, Any] | None = None
    with st.status(f"Running the {what}…", expanded=True) as status:
        def on_step(i: int, total: int, name: str, phase: str) -> None:
            if phase == "round":  # every method in turn: round i of at most `total`
                progress.progress(i / total, text=f"Timing every method in turn: round {i} of "
                                                  f"at most {total}")
                status.update(label=f"Timing every method in turn, round {i}")
            elif phase == "start":
                text = f"{describe(i, name)} ({i} of {total})"
                progress.progress((i - 1) / total, text=text)
                status.update(label=f"Preparing {text}")
            else:
                progress.progress(i / total, text=f"{i} of {total} done")

        def on_row(i: int, total: int, row: RaceRow) -> None:
            where = f"N = {row.n:,} · " if show_n else ""
            status.write(f"{where}**{row.label}**: {row.summary()}")

        try:
            done = work(on_step=on_step, on_row=on_row, should_stop=should_stop_for_streamlit())
        except TimingCancelled as err:
            status.update(label=str(err), state="error")
        except (ValueError, MemoryError) as err:
            status.update(label=f"The {what} failed: {err}", state="error")
        else:
            took = (datetime.datetime.now() - started).total_seconds()
            status.update(label=f"The {what} finished: {steps} steps in {format_seconds(took)}",
                          state="complete", expanded=False)
    progress.empty()
    stop_slot.empty()
    st.session_state.pop(_RUNNING, None)
    return done
