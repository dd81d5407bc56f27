"""CSV, TSV and TXT uploads read with pandas into a float64 matrix, or a DataError.

pandas' C reader does the parsing, with the separator, header and decimal mark
that `core.data.sniff` reads from the first two rows; this module turns
whatever pandas refuses into a message that names the row and column and says
what to do.

The valid path reads the file once: every column comes back numeric. Only a
file with a problem is read again, and only as far as the message needs: its
non-numeric columns as text (to find the first bad cell of each); the rows
that may be short (pandas pads them with empty cells) split one by one; and,
for a row that is too long or many that may be short, the whole file once
more with pandas' Python reader, which reports each row's field count.

The text is parsed, never evaluated: a cell holding `=cmd|...` or `<script>`
is only ever quoted back in an error message.
"""

from __future__ import annotations

import csv
import io
import re
import warnings

import numpy as np
import pandas as pd

from core.data.checks import (
    check_finite,
    check_shape,
    column_label,
    column_ref,
    show_value,
)
from core.data.sniff import parse_number, sniff_format, split_line
from core.errors import DataError

__all__ = ["read_text_table"]

_WHITESPACE = r"\s+"
# Up to this many rows that may be short are split one by one; more, and the
# whole file goes through pandas' Python reader once.
_MAX_LINES_SPLIT = 200
_TAB_BLANK_LINE = re.compile(r"^[ \t]+$", re.MULTILINE)
# Stands in for a row with too many fields in the Python reader's output.
_LONG_ROW = "\x00too many fields\x00"


def read_text_table(text: str, *, max_rows: int, max_cols: int) -> np.ndarray:
    """The numbers in a CSV-like file as float64 (rows, cols), or a DataError.

    Args:
      text: the whole file, decoded (byte-order mark removed).
      max_rows: most data rows accepted; pandas reads at most one more.
      max_cols: most columns accepted.

    Returns:
      float64 (rows, cols) C-contiguous array, all values finite, rows >= 2.
    """
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise DataError(
            "The file is empty (it has no text, or only spaces and blank lines). "
            "Upload a CSV file with at least 2 rows of numbers."
        )
    fmt = sniff_format(text)
    table = _Table(
        text, sep=fmt.sep, names=fmt.names, n_cols=fmt.n_cols, max_rows=max_rows,
        decimal_comma=fmt.decimal_comma, decimal=fmt.decimal,
    )
    return table.read(max_cols)


class _Table:
    """One upload's text and the reading rules chosen from its first rows.

    `sep` None means runs of whitespace; `names` is the header row, None if
    the file has none; `decimal_comma` lets a cell read by hand take "1,5";
    `decimal` is the mark pandas is told to use.
    """

    def __init__(self, text: str, *, sep: str | None, names: list[str] | None, n_cols: int,
                 max_rows: int, decimal_comma: bool, decimal: str) -> None:
        self.text, self.sep, self.names, self.n_cols = text, sep, names, n_cols
        self.max_rows, self.decimal_comma, self.decimal = max_rows, decimal_comma, decimal
        if sep == "\t" and ("\t\n" in text or " \n" in text or text.endswith(("\t", " "))):
            # A line of only spaces and tabs is blank, as for the other separators
            # (pandas would read it as a row of empty cells).
            text = _TAB_BLANK_LINE.sub("", text)
        self.body = text.encode("utf-8")

    def _read_csv(self, with_header: bool = False, **kwargs) -> pd.DataFrame:
        """pandas.read_csv of the data rows, at most max_rows + 1 of them.

        The header row is skipped unless `with_header`. Every cell is kept as
        written (no "NA"/"null" guessing: `keep_default_na` off), so that an empty
        cell and the text "nan" can be told apart.
        """
        skip_header = self.names is not None and not with_header
        return pd.read_csv(
            io.BytesIO(self.body), sep=self.sep or _WHITESPACE, header=0 if skip_header else None,
            names=range(self.n_cols), index_col=False,
            nrows=self.max_rows + 1 + (self.names is not None and with_header),
            quotechar='"', skipinitialspace=True, skip_blank_lines=True,
            keep_default_na=False, na_values=[], encoding="utf-8", **kwargs,
        )

    def read(self, max_cols: int) -> np.ndarray:
        if self.n_cols > max_cols:  # refused before pandas builds thousands of columns
            check_shape(_count_data_lines(self.text) - bool(self.names), self.n_cols,
                        max_rows=self.max_rows, max_cols=max_cols)
        try:
            with warnings.catch_warnings():
                # pandas only warns, and drops cells, when the first data row is too long.
                warnings.simplefilter("error", pd.errors.ParserWarning)
                frame = self._read_csv(decimal=self.decimal, low_memory=False)
        except (pd.errors.ParserError, pd.errors.ParserWarning):
            # A row with too many fields, or a quote that never closes.
            counts = self._field_counts()
            self._check_shape(len(counts), max_cols)
            self._raise_if_ragged(counts)
            raise self._unreadable(None) from None
        self._check_shape(len(frame), max_cols)
        numeric = [j for j in frame if frame[j].dtype.kind in "iuf"]
        if len(numeric) == self.n_cols:
            values = np.ascontiguousarray(frame.to_numpy(dtype=np.float64))
        else:
            values = self._read_text_columns(frame, numeric)
        check_finite(values, self.names)
        return values

    def _check_shape(self, n_read: int, max_cols: int) -> None:
        n_rows = n_read
        if n_read > self.max_rows:  # pandas stops at max_rows + 1: count them all
            n_rows = max(n_read, _count_data_lines(self.text) - bool(self.names))
        check_shape(n_rows, self.n_cols, max_rows=self.max_rows, max_cols=max_cols,
                    header=self.names is not None)

    def _read_text_columns(self, frame: pd.DataFrame, numeric: list[int]) -> np.ndarray:
        """Columns pandas did not read as numbers, read again as text and cell by cell."""
        values = np.empty((len(frame), self.n_cols))
        for j in numeric:
            values[:, j] = frame[j].to_numpy(dtype=np.float64)
        others = sorted(set(range(self.n_cols)) - set(numeric))
        cells = self._read_csv(usecols=others, dtype=object)
        text_cells: dict[int, tuple[int, str]] = {}  # col -> (row, value)
        empty_cells: dict[int, tuple[int, int]] = {}  # col -> (first row, count)
        for j in others:
            column, first_text, first_empty, n_empty = _parse_cells(
                cells[j].tolist(), self.decimal_comma
            )
            values[:, j] = column
            if first_text is not None:
                text_cells[j] = (first_text + 1, cells[j].iat[first_text])
            if n_empty:
                empty_cells[j] = (first_empty + 1, n_empty)
        last = self.n_cols - 1
        if last in others:
            # pandas pads a short row with empty cells, so its last cell is empty:
            # count the fields of such rows to tell a short row from an empty cell.
            maybe_short = [i for i, cell in enumerate(cells[last].tolist()) if not cell.strip()]
            if len(maybe_short) > _MAX_LINES_SPLIT:
                self._raise_if_ragged(self._field_counts())
            elif maybe_short:
                counts = [self.n_cols] * len(cells)
                lines = self._lines_of_rows([i + 1 for i in maybe_short])
                for i, (number, line) in zip(maybe_short, lines):
                    counts[i] = len(split_line(line, self.sep))
                self._raise_if_ragged(counts)
        if text_cells:
            raise self._not_numeric(text_cells)
        if empty_cells:
            row, col = min((row, col) for col, (row, _) in empty_cells.items())
            count = sum(n for _, n in empty_cells.values())
            noun = "cell is" if count == 1 else "cells are"
            raise DataError(
                f"{count:,} {noun} empty (missing values); the first is in row {row}, "
                f"{column_label(col, self.names)}. Fill in or remove those cells "
                "(or the rows that hold them)."
            )
        return values

    def _field_counts(self) -> list[int]:
        """How many fields each data row has, from pandas' Python reader.

        The C reader pads a short row with empty cells and stops at a long one;
        the Python reader leaves a short row's missing cells missing (None) and
        hands each long row to `on_bad_lines`.
        """
        long_rows: list[int] = []

        def on_bad_line(fields: list[str]) -> list[str]:
            long_rows.append(len(fields))
            return [_LONG_ROW] * self.n_cols

        try:
            # With the header as row 0, every data row goes through the checks
            # (pandas cuts a too-long first row instead, with a warning).
            with warnings.catch_warnings():  # rows cut to size are counted below
                warnings.simplefilter("ignore", pd.errors.ParserWarning)
                cells = self._read_csv(
                    with_header=True, dtype=object, engine="python", on_bad_lines=on_bad_line
                )
        except (pd.errors.ParserError, csv.Error) as exc:
            raise self._unreadable(exc) from None
        counts = np.array(cells.notna().sum(axis=1))
        # Compared in Python: NumPy's fixed-width strings would drop the trailing NUL.
        long = [row for row, cell in enumerate(cells[0].tolist()) if cell == _LONG_ROW]
        counts[long] = long_rows[: len(long)]
        return counts.tolist()[1:] if self.names is not None else counts.tolist()

    def _raise_if_ragged(self, counts: list[int]) -> None:
        ragged = [row for row, count in enumerate(counts) if count != self.n_cols]
        if not ragged:
            return
        row = ragged[0] + 1
        found = self._lines_of_rows([row])
        where = f"Row {row} (line {found[0][0]} of the file)" if found else f"Row {row}"
        expected = "the header has" if self.names is not None else "the first row has"
        others = f" ({len(ragged):,} rows have the wrong number)" if len(ragged) > 1 else ""
        raise DataError(
            f"{where} has {counts[row - 1]} values, "
            f"but {expected} {self.n_cols}{others}. Every row needs the same number of columns: "
            "look for missing or extra separators (commas, semicolons or tabs) in that row."
        )

    def _not_numeric(self, text_cells: dict[int, tuple[int, str]]) -> DataError:
        refs = [column_ref(col, self.names) for col in sorted(text_cells)]
        first_col = min(text_cells)
        row, value = text_cells[first_col]
        shown = ", ".join(refs[:5]) + (f" and {len(refs) - 5} more" if len(refs) > 5 else "")
        subject = f"Column {shown} is" if len(refs) == 1 else f"Columns {shown} are"
        where = "" if len(refs) == 1 else f"{column_label(first_col, self.names)}, "
        return DataError(
            f"{subject} not numeric (found {show_value(value)} in {where}row {row}). "
            "Remove text columns or encode them as numbers, and fix any cell that is not a "
            "number (decimal mark: a dot, or a comma when columns are separated by ';'; "
            "no thousands separators)."
        )

    def _lines_of_rows(self, rows: list[int]) -> list[tuple[int, str]]:
        """(file line number, text) of each data row in `rows` (increasing, from 1).

        Rows are counted as pandas counts them: blank lines skipped, header
        left out. (A quoted value spanning lines would shift the count.)
        """
        wanted = iter(row + bool(self.names) for row in rows)
        target, seen, found = next(wanted, None), 0, []
        for number, line in enumerate(self.text.split("\n"), start=1):
            if target is None:
                break
            if not _is_blank(line, self.sep):
                seen += 1
                if seen == target:
                    found.append((number, line))
                    target = next(wanted, None)
        return found

    def _unreadable(self, exc: Exception | None) -> DataError:
        """The error for a file pandas cannot split into rows: usually a stray quote."""
        inside, opened = False, 0
        for number, line in enumerate(self.text.split("\n"), start=1):
            if line.count('"') % 2:
                inside = not inside
                opened = number if inside else opened
        if inside:
            return DataError(
                f"Line {opened} of the file has a quote mark (\") that is never closed, so the "
                "rest of the file reads as one value. Remove that quote mark or add the closing "
                "one, and upload again."
            )
        reason = f" ({exc})" if exc is not None else ""
        return DataError(
            f"The file could not be split into rows and columns{reason}. Check that it is a "
            "plain table: one row per line, the same separator throughout, and quote marks "
            "(\") only around whole values."
        )


def _parse_cells(
    cells: list[str], decimal_comma: bool
) -> tuple[np.ndarray, int | None, int | None, int]:
    """A text column cell by cell, by the rule of `core.data.sniff.parse_number`.

    Returns:
      (float64 (len(cells),) values, NaN where not read; index of the first
      text cell or None; index of the first empty cell or None; number of
      empty cells). Stops at the first text cell: its column is reported
      whatever follows.
    """
    values = np.full(len(cells), np.nan)
    first_empty, n_empty = None, 0
    for i, cell in enumerate(cells):
        if not cell.strip():
            first_empty = i if first_empty is None else first_empty
            n_empty += 1
            continue
        try:
            values[i] = parse_number(cell, decimal_comma)
        except ValueError:
            return values, i, first_empty, n_empty
    return values, None, first_empty, n_empty


def _is_blank(line: str, sep: str | None) -> bool:
    """Whether pandas skips this line: only spaces and tabs, and not the separator."""
    return not line.strip(" \t") and (sep in (None, "\t") or sep not in line)


def _count_data_lines(text: str) -> int:
    """Lines that are not blank, counted in C-level passes (the file may be huge)."""
    n_blank = len(re.findall(r"^[ \t]*$", text, flags=re.MULTILINE))
    return text.count("\n") + 1 - n_blank
