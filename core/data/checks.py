"""Checks shared by both upload formats (CSV text and `.npy`): limits and finiteness.

Each check raises a `DataError` whose message names the problem, where it is
(row and column, as the user counts them: from 1, header names when there are
some) and what to do.
"""

from __future__ import annotations

import numpy as np

from core.errors import DataError

__all__ = ["check_finite", "check_shape", "column_label", "column_ref", "show_value"]


def show_value(value: str) -> str:
    """A cell value quoted for an error message: escaped and at most ~30 chars."""
    value = value.strip()
    if len(value) > 30:
        value = value[:27] + "..."
    return repr(value)


def column_ref(index: int, names: list[str] | None) -> str:
    """The header name, quoted ('price'), else the 1-based column number (3)."""
    if names is not None and index < len(names) and names[index].strip():
        return show_value(names[index])
    return str(index + 1)


def column_label(index: int, names: list[str] | None) -> str:
    """'column 'price'' or 'column 3', for a 0-based column index."""
    return f"column {column_ref(index, names)}"


def check_shape(
    n_rows: int, n_cols: int, *, max_rows: int, max_cols: int, header: bool = False
) -> None:
    """Refuse tables outside the limits or too small to use.

    Args:
      n_rows: data rows only (a header row is not counted).
      n_cols: columns.
      max_rows, max_cols: the largest table accepted (inclusive).
      header: whether the file had a header row (for the wording when no data
        rows follow it).
    """
    if n_rows > max_rows:
        raise DataError(
            f"The file has {n_rows:,} rows of data; the limit is {max_rows:,}. "
            f"Keep at most {max_rows:,} rows (for example a random sample) and upload again."
        )
    if n_cols > max_cols:
        raise DataError(
            f"The file has {n_cols:,} columns; the limit is {max_cols:,}. "
            f"Keep only the columns you need (at most {max_cols:,}) and upload again."
        )
    if n_rows == 0:
        if header:
            raise DataError(
                "The file has a header row but no data rows. Add at least 2 rows of numbers."
            )
        raise DataError("The file has no data rows. Add at least 2 rows of numbers.")
    if n_rows < 2:
        raise DataError(
            "The file has only 1 row of data; at least 2 rows are needed. "
            "Add more rows (one row per data point)."
        )
    if n_cols == 0:
        raise DataError("The file has no columns. Add at least one column of numbers.")


def check_finite(values: np.ndarray, column_names: list[str] | None = None) -> None:
    """Refuse NaN and +-inf, naming how many there are and where the first one is.

    Args:
      values: float64 (rows, cols).
      column_names: header names, if the file had a header.
    """
    bad = ~np.isfinite(values)
    if not bad.any():
        return
    row, col = np.argwhere(bad)[0]
    count = int(bad.sum())
    noun = "value is" if count == 1 else "values are"
    raise DataError(
        f"{count:,} {noun} missing or infinite (NaN or inf); the first is in row {row + 1}, "
        f"{column_label(col, column_names)} (value {float(values[row, col])}). "
        "Fill in or remove those cells (or the rows that hold them) and upload again."
    )
