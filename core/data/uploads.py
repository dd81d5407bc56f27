"""Uploads: a user's CSV or `.npy` file read into a float64 matrix, validated.

`load_table` turns every way an upload can be unusable into one `DataError` whose
message says what is wrong and what to do, in words for a non-programmer: the app
shows these messages verbatim.

Uploads are untrusted: `.npy` files are read with `allow_pickle=False` only
(unpickling can run arbitrary code), CSV text is parsed, never evaluated, and sizes
are checked before anything large is read or allocated.
"""

from __future__ import annotations

import csv
import io
import os
import re
from dataclasses import dataclass, field
from typing import IO, Union

import numpy as np

from core.errors import DataError

__all__ = [
    "TableSource",
    "MAX_TABLE_ROWS",
    "MAX_TABLE_COLS",
    "MAX_TABLE_BYTES",
    "SUPPORTED_TABLE_EXTENSIONS",
    "load_table",
    "describe_table_warnings",
]

MAX_TABLE_ROWS = 20_000
MAX_TABLE_COLS = 1_000
MAX_TABLE_BYTES = 50_000_000

SUPPORTED_TABLE_EXTENSIONS = (".csv", ".tsv", ".txt", ".npy")

TableSource = Union[str, "os.PathLike[str]", IO[bytes]]

_NPY_MAGIC = b"\x93NUMPY"
# Lines holding only spaces/tabs; removed in one C-level pass when a file has
# absurdly many lines, so that counting them does not build a huge list.
_BLANK_LINE = re.compile(r"^[ \t]*(?:\n|\Z)", re.MULTILINE)
# Reading stops after this many bad rows: enough to name every bad column of a
# realistic file, and bounded time for a file where every row is bad.
_MAX_BAD_ROWS_EXAMINED = 200
# Rows per block handed to NumPy's fast reader (see `_read_values`).
_BLOCK_ROWS = 1000


def _format_bytes(size: int) -> str:
    if size < 10_000:
        return f"{size:,} bytes"
    if size < 10_000_000:
        return f"{size / 1e3:,.0f} KB"
    return f"{size / 1e6:,.0f} MB"


def _show_value(value: str) -> str:
    """A cell value quoted for an error message: escaped and at most ~30 chars."""
    value = value.strip()
    if len(value) > 30:
        value = value[:27] + "..."
    return repr(value)


def _read_upload(file: TableSource, max_bytes: int) -> bytes:
    """The file's bytes, refusing files over `max_bytes` before reading them."""
    if isinstance(file, (str, os.PathLike)):
        path = os.fspath(file)
        name = os.path.basename(path)
        try:
            size = os.path.getsize(path)
            if size > max_bytes:
                raise _too_big(size, max_bytes)
            with open(path, "rb") as handle:
                data = handle.read(max_bytes + 1)
        except OSError as exc:
            raise DataError(
                f"Could not open the file {name!r} ({exc.strerror or exc}). "
                "Check that the path is right and the file is readable."
            ) from None
    else:
        size = getattr(file, "size", None)  # Streamlit's UploadedFile knows its size
        if hasattr(file, "seek"):
            # Streamlit reruns the script with the same object, possibly already read.
            file.seek(0)
            if not isinstance(size, int):
                size = file.seek(0, io.SEEK_END)
                file.seek(0)
        if isinstance(size, int) and size > max_bytes:
            raise _too_big(size, max_bytes)
        data = file.read(max_bytes + 1)
        if hasattr(file, "seek"):
            file.seek(0)
    # Re-checked after reading: a size attribute can be missing or wrong.
    if len(data) > max_bytes:
        raise _too_big(len(data), max_bytes, at_least=True)
    return bytes(data)


def _too_big(size: int, max_bytes: int, at_least: bool = False) -> DataError:
    found = f"more than {_format_bytes(max_bytes)}" if at_least else _format_bytes(size)
    return DataError(
        f"The file is too large: {found}, and the limit is {_format_bytes(max_bytes)}. "
        "Upload a smaller file: keep a random sample of the rows or only the columns you need."
    )


def _check_extension(name: str) -> str:
    extension = os.path.splitext(name)[1].lower()
    if extension in SUPPORTED_TABLE_EXTENSIONS:
        return extension
    supported = ", ".join(SUPPORTED_TABLE_EXTENSIONS)
    if extension in (".pkl", ".pickle", ".joblib"):
        raise DataError(
            f"Pickle files ({extension}) are never opened here, because opening one can run "
            f"any program hidden inside it. Save your data as a CSV file, or as a NumPy array "
            f"with numpy.save(..., allow_pickle=False). Supported file types: {supported}."
        )
    if extension in (".xlsx", ".xls", ".xlsm", ".ods"):
        raise DataError(
            f"Spreadsheet files ({extension}) are not supported. In Excel use "
            f"File > Save As > 'CSV UTF-8 (comma delimited)' and upload the .csv file. "
            f"Supported file types: {supported}."
        )
    shown = repr(extension) if extension else "(no extension)"
    raise DataError(
        f"Unsupported file type {shown} for {name!r}. Upload a file ending in one of: {supported}."
    )


def load_table(
    file: TableSource,
    *,
    max_rows: int = MAX_TABLE_ROWS,
    max_cols: int = MAX_TABLE_COLS,
    max_bytes: int = MAX_TABLE_BYTES,
) -> np.ndarray:
    """Read a user's numeric table from a CSV-like text file or a `.npy` file.

    CSV files (.csv, .tsv, .txt) must be UTF-8 text (a byte-order mark is fine).
    The separator is detected: tab, semicolon, comma or runs of spaces. With a
    separator other than comma, decimal commas ("1,5") are read as decimal
    points. The first row is taken as a header when it contains text where the
    next row has numbers (or is all text). Quoted numbers and blank lines are
    fine. `.npy` files must hold a 2-D array of bool, integer or real floats;
    they are read without unpickling.

    Args:
      file: a path, or a binary file object with a `.name` (such as the
        `UploadedFile` that Streamlit's `st.file_uploader` returns); its
        extension decides the format.
      max_rows: most data rows accepted.
      max_cols: most columns accepted.
      max_bytes: largest file size accepted, checked before reading.

    Returns:
      float64 (rows, cols) C-contiguous array, all values finite, rows >= 2.

    Raises:
      DataError: for any file that cannot be used; the message says why and
        what to do.
    """
    extension = _check_extension(_source_name(file))
    data = _read_upload(file, max_bytes)
    if extension == ".npy":
        return _parse_npy(data, max_rows=max_rows, max_cols=max_cols)
    text = _decode_text(data)
    return _parse_text_table(text, max_rows=max_rows, max_cols=max_cols)


def _source_name(file: TableSource) -> str:
    if isinstance(file, (str, os.PathLike)):
        return os.path.basename(os.fspath(file))
    name = getattr(file, "name", None)
    if not name:
        raise DataError(
            "The upload has no file name, so its type is unknown. "
            f"Upload a file ending in one of: {', '.join(SUPPORTED_TABLE_EXTENSIONS)}."
        )
    return os.path.basename(str(name))


def _check_shape(
    n_rows: int, n_cols: int, *, max_rows: int, max_cols: int, header: bool = False
) -> None:
    """Shared limits for both formats; `n_rows` counts data rows only."""
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


def _check_finite(values: np.ndarray, column_names: list[str] | None = None) -> None:
    bad = ~np.isfinite(values)
    if not bad.any():
        return
    row, col = np.argwhere(bad)[0]
    count = int(bad.sum())
    noun = "value is" if count == 1 else "values are"
    raise DataError(
        f"{count:,} {noun} missing or infinite (NaN or inf); the first is in row {row + 1}, "
        f"{_column_label(col, column_names)} (value {float(values[row, col])}). "
        "Fill in or remove those cells (or the rows that hold them) and upload again."
    )


def _column_ref(index: int, names: list[str] | None) -> str:
    """The header name, quoted ('price'), else the 1-based column number (3)."""
    if names is not None and index < len(names) and names[index].strip():
        return _show_value(names[index])
    return str(index + 1)


def _column_label(index: int, names: list[str] | None) -> str:
    return f"column {_column_ref(index, names)}"


# ---- .npy ------------------------------------------------------------------ #


def _parse_npy(data: bytes, *, max_rows: int, max_cols: int) -> np.ndarray:
    if not data:
        raise DataError("The file is empty (0 bytes). Upload a .npy file saved with numpy.save.")
    if not data.startswith(_NPY_MAGIC):
        if data.startswith(b"PK"):
            kind = "It looks like a .npz archive (several arrays), not a single .npy array."
        elif data[:1] == b"\x80":
            kind = "It looks like a Python pickle, which is never opened here because it can run code."
        else:
            kind = "It does not start with the NumPy header."
        raise DataError(
            f"The file is not a valid .npy file. {kind} Save one array with "
            "numpy.save(path, array), or upload the data as a CSV file."
        )
    stream = io.BytesIO(data)
    try:
        version = np.lib.format.read_magic(stream)
        # The header is parsed with ast.literal_eval inside NumPy: no code runs.
        # Version 3 differs from 2 only in allowing UTF-8 field names.
        read_header = (
            np.lib.format.read_array_header_1_0 if version == (1, 0)
            else np.lib.format.read_array_header_2_0
        )
        shape, _, dtype = read_header(stream)
    except Exception:
        raise DataError(
            "The .npy file is damaged or incomplete: its header could not be read. "
            "Save the array again with numpy.save and upload the new file."
        ) from None

    if dtype.hasobject:
        raise DataError(
            "The .npy file holds Python objects (pickled data), which are never opened here "
            "because unpickling can run any code. Convert the data to numbers first "
            "(for example array.astype(float)) and save it with "
            "numpy.save(path, array, allow_pickle=False)."
        )
    if dtype.names is not None or dtype.kind == "V":
        raise DataError(
            f"The .npy file holds a structured array (fields: {', '.join(dtype.names or ())}). "
            "Save a plain 2-D numeric array instead, for example with "
            "numpy.column_stack([a[name] for name in a.dtype.names])."
        )
    if dtype.kind == "c":
        raise DataError(
            f"The .npy file holds complex numbers ({dtype}), which are not supported. "
            "Save the real and imaginary parts as separate columns, e.g. "
            "numpy.column_stack([x.real, x.imag])."
        )
    if dtype.kind not in "biuf":
        raise DataError(
            f"The .npy file holds {_dtype_words(dtype)}, not numbers. "
            "Convert it to numbers (for example array.astype(float)) and save it again."
        )
    if len(shape) == 0:
        raise DataError(
            "The .npy file holds a single number (a 0-D array), not a table. "
            "Save a 2-D array with one row per data point and one column per feature."
        )
    if len(shape) == 1:
        raise DataError(
            f"The .npy file holds a 1-D array of {shape[0]:,} values, but a 2-D table is needed. "
            "If each value is one data point, save it as a column: array.reshape(-1, 1)."
        )
    if len(shape) > 2:
        raise DataError(
            f"The .npy file holds a {len(shape)}-D array of shape {tuple(shape)}, but a 2-D table "
            "(rows x columns) is needed. Reshape it first, for example to one row per data point: "
            "array.reshape(array.shape[0], -1)."
        )
    _check_shape(shape[0], shape[1], max_rows=max_rows, max_cols=max_cols)

    stream.seek(0)
    try:
        array = np.lib.format.read_array(stream, allow_pickle=False)
    except Exception:
        raise DataError(
            "The .npy file is damaged or incomplete: it has less data than its header promises. "
            "Save the array again with numpy.save and upload the new file."
        ) from None
    values = np.ascontiguousarray(array, dtype=np.float64)
    _check_finite(values)
    return values


def _dtype_words(dtype: np.dtype) -> str:
    if dtype.kind in "US":
        return "text (strings)"
    if dtype.kind in "Mm":
        return "dates or times"
    return f"values of type {dtype}"


# ---- CSV / TSV / TXT ------------------------------------------------------- #


def _decode_text(data: bytes) -> str:
    """UTF-8 text of the file (BOM removed), or a DataError saying why not."""
    sample = data[:4096]
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or (
        b"\x00" in sample and sample[1::2].count(0) > 0.4 * len(sample[1::2])
        and sample[0::2].count(0) < 0.1 * len(sample[0::2])
    ):
        raise DataError(
            "The file is not UTF-8 text: it is saved as UTF-16 (Unicode). "
            "Save it again as 'CSV UTF-8' (in Excel: File > Save As > 'CSV UTF-8 (comma delimited)')."
        )
    if data.startswith(_NPY_MAGIC):
        raise DataError(
            "The file is a NumPy array, not text. Rename it so that it ends in .npy and upload it again."
        )
    if _looks_binary(sample):
        raise DataError(
            "The file does not look like text (it contains binary data). "
            "Upload a CSV text file (UTF-8), or a NumPy .npy file."
        )
    try:
        # utf-8-sig also accepts plain UTF-8 and drops Excel's byte-order mark.
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(
            f"The file is not UTF-8 text: byte 0x{data[exc.start]:02x} at position {exc.start:,} "
            "is not valid UTF-8 (the file was probably saved as Latin-1 / Windows-1252). "
            "Save it again as UTF-8 (in Excel: File > Save As > 'CSV UTF-8 (comma delimited)')."
        ) from None


def _looks_binary(sample: bytes) -> bool:
    if b"\x00" in sample:
        return True
    control = sum(1 for byte in sample if byte < 32 and byte not in (9, 10, 12, 13))
    return control > 0.05 * max(len(sample), 1)


def _make_splitter(delimiter: str | None):
    """A function line -> list of fields for the sniffed delimiter."""
    if delimiter is None:
        # Runs of spaces/tabs; quotes around a field are dropped.
        return lambda line: [cell.strip('"') for cell in line.split()]

    def split(line: str) -> list[str]:
        reader = csv.reader(
            [line], delimiter=delimiter, quotechar='"', skipinitialspace=True, strict=False
        )
        return next(reader, [])

    return split


def _sniff_delimiter(first_line: str) -> str | None:
    """Tab, semicolon or comma, in that order, if the first line has it; else whitespace.

    Semicolon comes before comma because files with a semicolon separator use
    the comma as their decimal mark. The first line decides, so that a later
    row with extra separators shows up as a ragged row rather than changing
    the detected format.
    """
    for delimiter in ("\t", ";", ","):
        if len(_make_splitter(delimiter)(first_line)) > 1:
            return delimiter
    return None


def _parse_number(cell: str, decimal_comma: bool) -> float:
    cell = cell.strip()
    if decimal_comma:
        cell = cell.replace(",", ".")
    # float() accepts "1_000"; NumPy's fast reader does not: keep both paths equal.
    if "_" in cell:
        raise ValueError(cell)
    return float(cell)


def _is_number(cell: str, decimal_comma: bool) -> bool:
    try:
        _parse_number(cell, decimal_comma)
    except ValueError:
        return False
    return True


def _parse_text_table(text: str, *, max_rows: int, max_cols: int) -> np.ndarray:
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise DataError(
            "The file is empty (it has no text, or only spaces and blank lines). "
            "Upload a CSV file with at least 2 rows of numbers."
        )
    n_lines = text.count("\n") + 1
    if n_lines > 2 * (max_rows + 1) + 10_000:
        # Too many lines to hold as a list; blank lines might pad a small table,
        # so count the non-blank ones in one pass first.
        _, n_blank = _BLANK_LINE.subn("", text)
        if n_lines - n_blank > max_rows + 1:
            _check_shape(n_lines - n_blank - 1, 1, max_rows=max_rows, max_cols=max_cols)

    content = [
        (number, line) for number, line in enumerate(text.split("\n"), start=1) if line.strip()
    ]
    first_line = content[0][1].lstrip()
    if first_line[:15].lower().startswith(("<!doctype html", "<html", "<?xml", "<head", "<body")):
        raise DataError(
            "The file is a web page (HTML), not a CSV table. If you downloaded it from a "
            "website, use the site's 'Download' or 'Raw' link to get the CSV file itself."
        )

    delimiter = _sniff_delimiter(content[0][1])
    split = _make_splitter(delimiter)
    # With a comma separator a comma cannot also be the decimal mark. Without
    # any separator (one column) "1,5" is read as 1.5, as a European
    # spreadsheet writes a single column.
    decimal_comma = delimiter != ","

    first_fields = split(content[0][1])
    second_fields = split(content[1][1]) if len(content) > 1 else None
    has_header = _is_header(first_fields, second_fields, decimal_comma)
    column_names = first_fields if has_header else None
    data_lines = content[1:] if has_header else content
    _check_shape(
        len(data_lines), len(first_fields), max_rows=max_rows, max_cols=max_cols, header=has_header
    )

    values = _read_values(data_lines, delimiter, decimal_comma, len(first_fields), column_names)
    _check_finite(values, column_names)
    return values


def _is_header(first: list[str], second: list[str] | None, decimal_comma: bool) -> bool:
    """True if the first row is column names rather than data.

    A row of all text is a header. A row mixing numbers and text is a header
    only if the next row has a number where it has text: otherwise it is a data
    row with a text column, and should be reported as such.
    """
    text_columns = [j for j, cell in enumerate(first) if not _is_number(cell, decimal_comma)]
    if not text_columns:
        return False
    if len(text_columns) == len(first) or second is None:
        return len(text_columns) == len(first)
    return any(j < len(second) and _is_number(second[j], decimal_comma) for j in text_columns)


def _read_values(
    data_lines: list[tuple[int, str]],
    delimiter: str | None,
    decimal_comma: bool,
    n_cols: int,
    column_names: list[str] | None,
) -> np.ndarray:
    """The data rows as float64 (rows, n_cols), or a DataError naming the first problem.

    Blocks of rows go through NumPy's C reader; only a block it refuses is read
    again field by field, to find and word the problem. So one bad cell at the
    end of a large file costs one slow block, not a slow pass over everything.
    """
    values = np.empty((len(data_lines), n_cols))
    split = _make_splitter(delimiter)
    problems = _Problems()
    for start in range(0, len(data_lines), _BLOCK_ROWS):
        block = data_lines[start : start + _BLOCK_ROWS]
        parsed = _read_block_fast(block, delimiter, decimal_comma, n_cols)
        if parsed is None:
            parsed = _read_block_slow(block, start, split, decimal_comma, n_cols, problems)
            if problems.bad_rows >= _MAX_BAD_ROWS_EXAMINED:
                problems.stopped_early = True
                break
        values[start : start + len(block)] = parsed
    problems.raise_if_any(n_cols, column_names)
    return values


def _read_block_fast(
    block: list[tuple[int, str]], delimiter: str | None, decimal_comma: bool, n_cols: int
) -> np.ndarray | None:
    """NumPy's C reader for the common, valid case; None if it refuses the text."""
    body = "\n".join(line for _, line in block)
    if decimal_comma and "," in body:
        body = body.replace(",", ".")
    try:
        parsed = np.loadtxt(
            io.StringIO(body), delimiter=delimiter, quotechar='"', comments=None,
            dtype=np.float64, ndmin=2,
        )
    except ValueError:
        return None
    return parsed if parsed.shape == (len(block), n_cols) else None


@dataclass
class _Problems:
    """What the field-by-field reader found, for one message at the end."""

    ragged: list[tuple[int, int, int]] = field(default_factory=list)  # (row, line, n_fields)
    text_cells: dict[int, tuple[int, str]] = field(default_factory=dict)  # col -> (row, value)
    empty_cells: list[tuple[int, int]] = field(default_factory=list)  # (row, col)
    bad_rows: int = 0
    stopped_early: bool = False

    def raise_if_any(self, n_cols: int, column_names: list[str] | None) -> None:
        """Raise a DataError for the most basic problem found (row shape first)."""
        at_least = "at least " if self.stopped_early else ""
        if self.ragged:
            row, line_number, count = self.ragged[0]
            expected = "the header has" if column_names is not None else "the first row has"
            others = (
                f" ({at_least}{len(self.ragged):,} rows have the wrong number)"
                if len(self.ragged) > 1 else ""
            )
            raise DataError(
                f"Row {row} (line {line_number} of the file) has {count} values, but {expected} "
                f"{n_cols}{others}. Every row needs the same number of columns: look for missing "
                "or extra separators (commas, semicolons or tabs) in that row."
            )
        if self.text_cells:
            refs = [_column_ref(col, column_names) for col in sorted(self.text_cells)]
            first_col = min(self.text_cells)
            row, value = self.text_cells[first_col]
            shown = ", ".join(refs[:5]) + (f" and {len(refs) - 5} more" if len(refs) > 5 else "")
            subject = f"Column {shown} is" if len(refs) == 1 else f"Columns {shown} are"
            where = "" if len(refs) == 1 else f"{_column_label(first_col, column_names)}, "
            raise DataError(
                f"{subject} not numeric (found {_show_value(value)} in {where}row {row}). "
                "Remove text columns or encode them as numbers, and fix any cell that is not a "
                "number (decimal mark: a dot, or a comma when columns are separated by ';'; "
                "no thousands separators)."
            )
        if self.empty_cells:
            row, col = self.empty_cells[0]
            count = len(self.empty_cells)
            noun = "cell is" if count == 1 and not at_least else "cells are"
            raise DataError(
                f"{at_least}{count:,} {noun} empty (missing values); the first is in row {row}, "
                f"{_column_label(col, column_names)}. Fill in or remove those cells "
                "(or the rows that hold them)."
            )


def _read_block_slow(
    block: list[tuple[int, str]],
    start: int,
    split,
    decimal_comma: bool,
    n_cols: int,
    problems: _Problems,
) -> np.ndarray:
    """Field-by-field reader for a block NumPy refused; records what is wrong."""
    parsed = np.empty((len(block), n_cols))
    for offset, (line_number, line) in enumerate(block):
        row = start + offset + 1  # 1-based data row, as the user counts them
        fields = split(line)
        if len(fields) != n_cols:
            problems.ragged.append((row, line_number, len(fields)))
            problems.bad_rows += 1
        else:
            try:
                parsed[offset] = [_parse_number(value, decimal_comma) for value in fields]
                continue
            except ValueError:
                problems.bad_rows += 1
            for col, value in enumerate(fields):
                if _is_number(value, decimal_comma):
                    continue
                if value.strip():
                    problems.text_cells.setdefault(col, (row, value))
                else:
                    problems.empty_cells.append((row, col))
        if problems.bad_rows >= _MAX_BAD_ROWS_EXAMINED:
            break
    return parsed


def describe_table_warnings(X: np.ndarray) -> list[str]:
    """Warnings about a valid table that the user may still want to fix.

    Args:
      X: (n, d) finite numeric array, as returned by `load_table`.

    Returns:
      Messages (possibly none): constant columns (they carry no information and
      make standardizing divide by zero) and duplicate rows (they make kernel
      matrices singular, so exact GP / kernel-ridge solves need a noise term).
    """
    X = np.asarray(X, dtype=np.float64)
    warnings: list[str] = []
    if X.ndim != 2 or X.shape[0] == 0:
        return warnings
    constant = np.flatnonzero(np.all(X == X[0], axis=0))
    if constant.size:
        listed = ", ".join(str(j + 1) for j in constant[:10]) + (" ..." if constant.size > 10 else "")
        if constant.size == 1:
            subject, rest = f"Column {listed} has", "it carries no information; consider removing it."
        else:
            subject = f"Columns {listed} have"
            rest = "they carry no information; consider removing them."
        warnings.append(f"{subject} the same value in every row, so {rest}")
    # Compare whole rows as raw bytes; + 0.0 turns -0.0 into 0.0 so equal rows match.
    rows = np.ascontiguousarray(X + 0.0)
    as_bytes = rows.view(np.dtype((np.void, rows.dtype.itemsize * rows.shape[1]))).ravel()
    n_duplicates = rows.shape[0] - np.unique(as_bytes).size
    if n_duplicates:
        noun = "row is an exact copy" if n_duplicates == 1 else "rows are exact copies"
        warnings.append(
            f"{n_duplicates:,} {noun} of an earlier row. Repeated points make kernel matrices "
            "singular: remove the copies, or keep a noise / regularization term above zero."
        )
    return warnings
