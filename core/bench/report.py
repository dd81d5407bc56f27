"""How timings read: durations, medians with their spread, and ratios with their range.

One formatter for every page, the CLI and the benchmarks. A ratio of two timings
taken together, round by round (`core.bench.interleave`), comes from the paired
samples; where its range holds 1 it says so instead of naming a winner.
"""

from __future__ import annotations

import math
import os

import numpy as np

from core.bench.timing import TimingResult

__all__ = ["format_seconds", "format_timing", "format_median_iqr", "ratio_interval",
           "median_interval", "paired_ratio", "within_noise", "format_ratio", "format_ratio_interval",
           "BUSY_CORES", "format_load"]


def format_seconds(s: float | None, digits: int = 3) -> str:
    """A duration to `digits` significant figures in s, ms, µs or ns ("12.3 ms", "1.20 s")."""
    if s is None or not np.isfinite(s):
        return "n/a"
    s = float(f"{s:.{digits}g}")  # round first, so 0.9996 s reads "1.00 s", not "1000 ms"
    units = (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9))
    # Below 1 ns stays in ns ("0.52 ns", the block engine's cost per entry); only 0 reads "s".
    unit, scale = next(((u, k) for u, k in units if abs(s) >= k), units[-1] if s else units[0])
    v = s / scale
    # Digits before the point; below 1 (only ns gets there) the zeros after it count too.
    whole = len(str(int(abs(v)))) if abs(v) >= 1 or v == 0 else 1 + int(np.floor(np.log10(abs(v))))
    return f"{v:.{max(digits - whole, 0)}f} {unit}"


def format_timing(t: TimingResult) -> str:
    """Median and spread to 2 significant figures: "1.2 ms (IQR 0.10 ms, 7 runs)".

    Two figures because repeat-to-repeat noise on a shared machine is rarely below
    a few per cent; the interquartile range says how far to trust them.
    """
    return format_median_iqr(t.median_s, t.spread_s, t.repeats)


def format_median_iqr(median_s: float, spread_s: float, repeats: int) -> str:
    """`format_timing` from its three numbers (a view's timing record keeps these, not the run)."""
    if repeats == 1:  # one run has no spread to show
        return f"{format_seconds(median_s, 2)} (1 run)"
    return f"{format_seconds(median_s, 2)} (IQR {format_seconds(spread_s, 2)}, {repeats} runs)"


def ratio_interval(slow: TimingResult, fast: TimingResult) -> tuple[float, float, float]:
    """`slow / fast` as (ratio, low, high).

    Timed together (`time_interleaved`): the median of the per-round ratios and its
    95 % interval (`paired_ratio`). Timed apart: the ratio of medians, from low =
    slow's 25th percentile over fast's 75th to high = 75th over 25th (the ratio's
    range when both vary within their interquartile ranges).
    """
    paired = paired_ratio(slow, fast)
    if paired is not None:
        return paired
    (s25, s75), (f25, f75) = slow.quartiles_s, fast.quartiles_s
    return slow.median_s / fast.median_s, s25 / f75, s75 / f25


def median_interval(samples: np.ndarray, confidence: float = 0.95) -> tuple[float, float, float]:
    """The median of `samples` and a distribution-free interval for it.

    The interval between the j-th smallest and the j-th largest sample holds the
    true median with probability 1 − 2·P(Binomial(n, ½) < j); j is the largest
    that keeps this at least `confidence`. With fewer than 6 samples no j reaches
    95 %: the interval is then [min, max].

    Returns:
      (median, low, high).
    """
    s = np.sort(np.asarray(samples, dtype=float))
    n = len(s)
    if n == 0:
        raise ValueError("No samples.")
    cdf, j = 0.0, 0
    # P(X < j) for X ~ Binomial(n, 1/2), raised one term at a time.
    while True:
        cdf_next = cdf + math.comb(n, j) / 2.0**n
        if cdf_next > (1 - confidence) / 2:
            break
        cdf, j = cdf_next, j + 1
    j = max(j, 1)
    return float(np.median(s)), float(s[j - 1]), float(s[n - j])


def paired_ratio(slow: TimingResult, fast: TimingResult,
                 confidence: float = 0.95) -> tuple[float, float, float] | None:
    """`slow / fast` from paired samples: (median ratio, low, high); None if not paired.

    Two results are paired when they come from one `time_interleaved` run (the same
    `run_id`): sample i of each was taken in the same round.
    """
    if slow.run_id is None or slow.run_id != fast.run_id or slow.repeats != fast.repeats:
        return None
    return median_interval(np.asarray(slow.times_s) / np.asarray(fast.times_s), confidence)


def _fig2(x: float) -> str:
    """x to 2 significant figures, thousands separated: "1,700", "12", "0.95"."""
    x = float(f"{x:.2g}")
    return f"{x:,.0f}" if abs(x) >= 10 else f"{x:.2g}" if abs(x) < 1 else f"{x:.1f}"


def within_noise(slow: TimingResult, fast: TimingResult) -> bool:
    """True when `ratio_interval`'s range holds 1: on this machine now, neither is
    measurably faster, and no lesson can be drawn from the two."""
    _, low, high = ratio_interval(slow, fast)
    return low <= 1.0 <= high


def format_ratio(slow: TimingResult, fast: TimingResult) -> str:
    """`ratio_interval` to 2 significant figures (`format_ratio_interval`)."""
    return format_ratio_interval(*ratio_interval(slow, fast))


def format_ratio_interval(ratio: float, low: float, high: float) -> str:
    """A ratio and its range to 2 significant figures: "12×, range 9.5–15×"; where the
    range holds 1, "1.1×, within noise on this machine now (range 0.90–1.3×)"."""
    if low <= 1.0 <= high:
        return f"{_fig2(ratio)}×, within noise on this machine now (range {_fig2(low)}–{_fig2(high)}×)"
    return f"{_fig2(ratio)}×, range {_fig2(low)}–{_fig2(high)}×"


BUSY_CORES = 0.25  # other processes' CPU from which a run counts as taken on a busy machine


def format_load(other_cores: float | None, cores: int | None = None) -> str:
    """One sentence on the machine while a comparison ran, for a caption; "" if unknown.

    Args:
      other_cores: other processes' CPU during the run, in cores kept busy on average
        (`TimingResult.other_cores`); None or NaN: not measured.
      cores: the machine's CPUs (default: this machine's).
    """
    if other_cores is None or not np.isfinite(other_cores):
        return ""
    share = f"{other_cores:.1f} of {cores or os.cpu_count() or 1} cores"
    if other_cores >= BUSY_CORES:
        return (f"The machine was busy while this ran (other processes used {share}): every "
                "time is higher than on a quiet machine; the contenders ran in turn, round by "
                "round, so their ratios are affected less.")
    return f"The machine was quiet while this ran (other processes used {share})."
