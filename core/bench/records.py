"""Race rows as CSV: one row per method, labelled with the environment it ran in.

The format of `python -m core.bench --csv`: `RaceRow.as_dict()`'s columns, then
the environment as `env_<key>` columns (nested values as JSON), repeated on every
row so that CSVs from different machines and dtypes can be concatenated.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any, Mapping, Sequence

from core.bench.race import RaceRow

__all__ = ["race_records", "race_csv"]


def race_records(rows: Sequence[RaceRow], env: Mapping[str, Any],
                 extra: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """Flat records: each row's fields, then `extra` columns, then `env_<key>` columns.

    Args:
      rows: the race's rows (any status; a declined row has empty timing columns).
      env: `environment_info()` plus what labels the run (e.g. "dtype").
      extra: run settings that are not in a row (dataset, gamma, budget_s).
    """
    env_cols = {f"env_{k}": v if isinstance(v, (str, int, float, bool)) else json.dumps(v)
                for k, v in env.items()}
    return [{**r.as_dict(), **(extra or {}), **env_cols} for r in rows]


def race_csv(rows: Sequence[RaceRow], env: Mapping[str, Any],
             extra: Mapping[str, Any] | None = None) -> str:
    """`race_records` as CSV text with a header line (empty string for no rows)."""
    records = race_records(rows, env, extra)
    if not records:
        return ""
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(records[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(records)
    return text.getvalue()
