"""Uploads: a user's CSV or `.npy` file read into a float64 matrix, validated.

`load_table` turns every way an upload can be unusable into one `DataError` whose
message says what is wrong and what to do, in words for a non-programmer: the app
shows these messages verbatim.

This module owns what both formats share: the size limit (checked before the
file is read), the file type, and whether the bytes are UTF-8 text at all. The
text is then parsed by pandas (`core.data.text_table`), a `.npy` file by NumPy
(`core.data.npy`).

Uploads are untrusted: `.npy` files are read with `allow_pickle=False` only
(unpickling can run arbitrary code), CSV text is parsed, never evaluated, and sizes
are checked before anything large is read or allocated.
"""

from __future__ import annotations

import io
import os
from typing import IO, Union

import numpy as np

from core.data.npy import NPY_MAGIC, read_npy
from core.data.text_table import read_text_table
from core.errors import DataError

__all__ = [
    "MAX_TABLE_BYTES",
    "MAX_TABLE_COLS",
    "MAX_TABLE_ROWS",
    "SUPPORTED_TABLE_EXTENSIONS",
    "TableSource",
    "describe_table_warnings",
    "load_table",
]

MAX_TABLE_ROWS = 20_000
MAX_TABLE_COLS = 1_000
MAX_TABLE_BYTES = 50_000_000

SUPPORTED_TABLE_EXTENSIONS = (".csv", ".tsv", ".txt", ".npy")

TableSource = Union[str, "os.PathLike[str]", IO[bytes]]


def _format_bytes(size: int) -> str:
    if size < 10_000:
        return f"{size:,} bytes"
    if size < 10_000_000:
        return f"{size / 1e3:,.0f} KB"
    return f"{size / 1e6:,.0f} MB"


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
    fine; a quote mark that never closes is refused. pandas reads at most
    `max_rows` + 1 data rows. `.npy` files must hold a 2-D array of bool,
    integer or real floats; they are read without unpickling.

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
        return read_npy(data, max_rows=max_rows, max_cols=max_cols)
    return read_text_table(_decode_text(data), max_rows=max_rows, max_cols=max_cols)


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
    if data.startswith(NPY_MAGIC):
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
