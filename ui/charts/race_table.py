"""The Batching race's results table (`st.dataframe` with a Styler) and its column settings.

Times arrive in seconds (`RaceRow.timing`) and stay numeric in the table, so sorting
a column sorts by time; only rows that ran ("ok") have table rows (the page lists
the others with their reasons).
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import pandas as pd
import streamlit as st
from pandas.io.formats.style import Styler

from core.dense.methods import METHODS
from core.bench.race import REFERENCE, RaceRow
from core.bench.report import format_seconds

__all__ = ["ERROR_HINT", "REFERENCE_WORDS", "ran_rows", "race_table", "speedup_words",
           "race_table_columns"]

# Max |K - K_float64| above which the table flags a method. K's entries are at most
# 1, so these are absolute: a few dozen unit round-offs of each dtype (the suite's
# tolerances, tests/conftest.py).
ERROR_HINT = {"float32": 2e-6, "float64": 1e-12}

_FLAG = "rgba(255, 75, 75, 0.28)"   # translucent red: legible on light and dark


def speedup_words(s: float | None) -> str:
    """A speedup to 2 significant figures, "12×" or "6,700×" ("–" when there is none)."""
    if s is None or not math.isfinite(s):
        return "–"
    s = float(f"{s:.2g}")
    return f"{s:.2g}×" if s < 100 else f"{s:,.0f}×"


def ran_rows(rows: Sequence[RaceRow]) -> list[RaceRow]:
    """The rows of the methods that ran ("ok", timed)."""
    return [r for r in rows if r.status == "ok" and r.timing is not None]


# In the table, the error of the reference method itself (its own output is the
# float64 reference it is compared with).
REFERENCE_WORDS = "reference"


def race_table(rows: Sequence[RaceRow], dtype: str) -> Styler:
    """One line per method that ran: the headline numbers (median, speedup, error)
    first, then the rest of the timing. Methods that did not run are not in it (the
    page lists each with its reason).

    Errors above `ERROR_HINT[dtype]` get a red background and a ⚠ (not colour alone);
    the reference method's error reads "0 (reference)". A compile JAX served from a
    cache reads "… (cached)". The underlying values stay numeric (seconds), so
    sorting a column sorts by time.
    """
    hint = ERROR_HINT[dtype]
    ran = ran_rows(rows)
    records = []
    for r in ran:
        t = r.timing
        records.append({
            "method": r.label,
            "compiled": r.compiled,
            "median": t.median_s,
            "speedup": r.speedup_vs_baseline,
            "max |K − K_float64|": r.max_abs_error,
            "compile (once)": t.compile_s,
            "first call": t.first_call_s,
            "min": t.min_s,
            "IQR": t.spread_s,
            "repeats": t.repeats,
        })
    columns = list(race_table_columns(rows, dtype))
    frame = pd.DataFrame.from_records(records, columns=columns).astype({
        c: "float64" for c in ("compile (once)", "first call", "median", "min", "IQR",
                               "speedup", "max |K − K_float64|")})
    frame["repeats"] = frame["repeats"].astype("Int64")
    frame["compiled"] = frame["compiled"].astype(bool)

    def error(v: float) -> str:
        return f"⚠ {v:.2e}" if v > hint else f"{v:.2e}"

    def reference(v: float) -> str:
        return f"0 ({REFERENCE_WORDS})" if v == 0 else f"{error(v)} ({REFERENCE_WORDS})"

    def cached(v: float) -> str:
        return f"{format_seconds(v, 2)} (cached)"

    def flag(v: float) -> str:
        return f"background-color: {_FLAG}" if pd.notna(v) and v > hint else ""

    times = ["compile (once)", "first call", "median", "min", "IQR"]
    refs = [i for i, r in enumerate(ran) if r.method == REFERENCE]
    hits = [i for i, r in enumerate(ran) if r.timing.compile_cache]
    return (frame.style
            .format(lambda v: format_seconds(v, 2), subset=times, na_rep="–")
            .format(cached, subset=pd.IndexSlice[hits, ["compile (once)"]], na_rep="–")
            .format(speedup_words, subset=["speedup"], na_rep="–")
            .format(error, subset=["max |K − K_float64|"], na_rep="–")
            .format(reference, subset=pd.IndexSlice[refs, ["max |K − K_float64|"]], na_rep="–")
            .format(na_rep="–", subset=["repeats"])
            .map(flag, subset=["max |K − K_float64|"]))


# Pixels per character of a method label in the grid's 14 px Source Sans, an upper
# bound over the registry's labels (measured in Chromium: 5.5 to 6.7), and the cell's
# padding (8 px a side). The table's check in Chromium measures the drawn text.
_LABEL_PX_PER_CHAR, _CELL_PADDING_PX = 6.7, 16


def race_table_columns(rows: Sequence[RaceRow], dtype: str) -> dict[str, Any]:
    """`st.dataframe` column settings for `race_table`: widths that hold each column's
    header and longest value (the grid draws on a canvas and cuts what does not fit
    with "…"), and what each column means.

    The numeric columns' widths hold their headers and their longest values ("⚠
    9.64e-08", "0 (reference)", "720 µs (cached)"); the method column is as wide
    as the longest label of `rows`, and pinned, so it stays in view where the window
    is too narrow for the table and the grid scrolls sideways. Together they fit the
    main area of a 1400 px window beside the sidebar for the default race.
    """
    labels = [r.label for r in ran_rows(rows)] or ["method"]
    method_px = math.ceil(_LABEL_PX_PER_CHAR * max(map(len, labels))) + _CELL_PADDING_PX
    col = st.column_config.Column
    return {
        "method": col(width=max(method_px, 80), pinned=True),
        "compiled": st.column_config.CheckboxColumn(
            width=72, help="Runs under jax.jit (for auto: its pick at this size)"),
        "median": col(width=62, help="Steady-state time per call: median of the timed calls"),
        "speedup": col(width=68, help="Over the notes' map + partial + np.stack: "
                                      "map + stack's median / this median"),
        "max |K − K_float64|": col(width=128, help=f"Largest absolute difference from the "
                                                   f"float64 reference ({METHODS[REFERENCE].label}"
                                                   f" run in float64); ⚠ marks values above "
                                                   f"{ERROR_HINT[dtype]:.0e}, a few dozen "
                                                   f"{dtype} round-offs"),
        "compile (once)": col(width=110, help="Trace + lower + XLA compile of a fresh copy of "
                                              "the program, paid on the first call only (– "
                                              "where not compiled). Never read from a "
                                              "compilation cache; one that was would say "
                                              "(cached)"),
        "first call": col(width=62, help="The warm-up call before the timed ones (for jit "
                                         "methods: after compiling)"),
        "min": col(width=58, help="The fastest timed call"),
        "IQR": col(width=62, help="Spread: the interquartile range, 75th − 25th percentile "
                                  "of the timed calls"),
        "repeats": col(width=60, help="Timed calls made (the budget may stop them early)"),
    }
