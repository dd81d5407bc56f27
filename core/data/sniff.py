"""What pandas cannot decide about a CSV-like upload, read from its first two rows.

Which separator (tab, semicolon, comma, else runs of whitespace), whether the
first row is a header, and which decimal mark: `sniff_format` answers all
three before pandas reads the file (`core.data.text_table`). The cell rules
here (`parse_number`, `split_line`) are also the ones that module uses when it
reads a bad row or cell by hand, so both paths read a cell the same way.

The text is parsed, never evaluated.
"""

from __future__ import annotations

import csv
from typing import NamedTuple

from core.errors import DataError

__all__ = ["TableFormat", "is_number", "parse_number", "sniff_format", "split_line"]

# Separators tried on the first row, in this order; none found means runs of
# spaces/tabs. Semicolon comes before comma because files separated by
# semicolons use the comma as their decimal mark.
_SEPARATORS = ("\t", ";", ",")


class TableFormat(NamedTuple):
    """How to read one upload's text.

    `sep` None means runs of whitespace; `names` is the header row, None if the
    file has none; `n_cols` is the first row's field count; `decimal_comma`
    lets a cell read by hand take "1,5"; `decimal` is the mark pandas is told
    to use.
    """

    sep: str | None
    names: list[str] | None
    n_cols: int
    decimal_comma: bool
    decimal: str


def sniff_format(text: str) -> TableFormat:
    """The separator, header and decimal mark of `text` (newlines "\\n", not blank).

    Raises:
      DataError: the file is a web page (HTML or XML), not a table.
    """
    first_lines = _first_lines(text, 2)
    first_line = first_lines[0]
    if first_line.lstrip()[:15].lower().startswith(
        ("<!doctype html", "<html", "<?xml", "<head", "<body")
    ):
        raise DataError(
            "The file is a web page (HTML), not a CSV table. If you downloaded it from a "
            "website, use the site's 'Download' or 'Raw' link to get the CSV file itself."
        )
    sep = _sniff_separator(first_line)
    first = split_line(first_line, sep)
    second = split_line(first_lines[1], sep) if len(first_lines) > 1 else None
    # A comma cannot be both separator and decimal mark; with any other
    # separator (or one column) "1,5" is 1.5, as a European spreadsheet writes.
    decimal_comma = sep != ","
    has_header = _is_header(first, second, decimal_comma)
    first_data_row = (second or []) if has_header else first
    return TableFormat(
        sep=sep, names=first if has_header else None, n_cols=len(first),
        decimal_comma=decimal_comma,
        # pandas takes one decimal mark; the first data row picks it, and a
        # column that mixes marks is read cell by cell.
        decimal="," if decimal_comma and any("," in c for c in first_data_row) else ".",
    )


def parse_number(cell: str, decimal_comma: bool) -> float:
    """One cell as Python's float() reads it; with `decimal_comma`, "1,5" is 1.5 too."""
    cell = cell.strip()
    if decimal_comma:
        cell = cell.replace(",", ".")
    # float() accepts "1_000"; pandas does not: keep both paths equal.
    if "_" in cell:
        raise ValueError(cell)
    return float(cell)


def is_number(cell: str, decimal_comma: bool) -> bool:
    """Whether `parse_number` reads `cell`."""
    try:
        parse_number(cell, decimal_comma)
    except ValueError:
        return False
    return True


def split_line(line: str, sep: str | None) -> list[str]:
    """One line's fields, split as pandas splits them (quotes removed, leading spaces skipped).

    Python's csv module with pandas' settings: pandas builds a whole DataFrame
    even for one row, which takes seconds for a line of 10,000 fields.
    """
    if sep is None:  # runs of spaces and tabs, as pandas' r"\s+"
        line, sep = line.replace("\t", " ").strip(), " "
    try:
        return next(csv.reader([line], delimiter=sep, quotechar='"', skipinitialspace=True), [])
    except csv.Error:  # a field over csv's size limit (128 KB): not a table's separator
        return [line]


def _is_header(first: list[str], second: list[str] | None, decimal_comma: bool) -> bool:
    """True if the first row is column names rather than data.

    A row of all text is a header. A row mixing numbers and text is a header
    only if the next row has a number where it has text: otherwise it is a data
    row with a text column, and should be reported as such.
    """
    text_columns = [j for j, cell in enumerate(first) if not is_number(cell, decimal_comma)]
    if not text_columns:
        return False
    if len(text_columns) == len(first) or second is None:
        return len(text_columns) == len(first)
    return any(j < len(second) and is_number(second[j], decimal_comma) for j in text_columns)


def _sniff_separator(line: str) -> str | None:
    """Tab, semicolon or comma, in that order, if the first row has it; else whitespace.

    The first row decides, so that a later row with extra separators shows up
    as a ragged row rather than changing the detected format.
    """
    for sep in _SEPARATORS:
        if len(split_line(line, sep)) > 1:
            return sep
    return None


def _first_lines(text: str, count: int) -> list[str]:
    """The first `count` lines holding more than whitespace (found without splitting it all)."""
    lines: list[str] = []
    start = 0
    while len(lines) < count and start <= len(text):
        end = text.find("\n", start)
        end = len(text) if end < 0 else end
        if text[start:end].strip():
            lines.append(text[start:end])
        start = end + 1
    return lines
