"""Benchmarking: the timing harness, the batching race, its CSV records, and the
`python -m core.bench` command line.
"""

from __future__ import annotations

from core.bench.timing import (  # noqa: F401
    TimingCancelled,
    TimingResult,
    block,
    environment_info,
    time_call,
    time_jitted,
)
from core.bench.report import (  # noqa: F401
    format_ratio,
    format_seconds,
    format_timing,
)
from core.bench.interleave import (  # noqa: F401
    Interleaved,
    time_interleaved,
)
from core.bench.race import (  # noqa: F401
    BASELINE,
    REFERENCE,
    RaceRow,
    crossovers,
    race,
    scaling_race,
    standard_normal_data,
)
from core.bench.records import (  # noqa: F401
    race_csv,
    race_records,
)

__all__ = [
    "BASELINE",
    "Interleaved",
    "REFERENCE",
    "RaceRow",
    "TimingCancelled",
    "TimingResult",
    "block",
    "crossovers",
    "environment_info",
    "format_ratio",
    "format_seconds",
    "format_timing",
    "race",
    "race_csv",
    "race_records",
    "scaling_race",
    "standard_normal_data",
    "time_call",
    "time_interleaved",
    "time_jitted",
]
