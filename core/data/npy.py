"""`.npy` uploads: one 2-D numeric NumPy array, read without unpickling.

The header is checked (dtype, number of dimensions, shape against the limits)
before the data is allocated, and the array is read with `allow_pickle=False`:
unpickling an object array can run any code hidden in the file.
"""

from __future__ import annotations

import io

import numpy as np

from core.data.checks import check_finite, check_shape
from core.errors import DataError

__all__ = ["NPY_MAGIC", "read_npy"]

NPY_MAGIC = b"\x93NUMPY"


def read_npy(data: bytes, *, max_rows: int, max_cols: int) -> np.ndarray:
    """The array in a `.npy` file's bytes as float64, or a DataError saying why not.

    Args:
      data: the whole file.
      max_rows, max_cols: the largest shape accepted, checked from the header
        before the data is read.

    Returns:
      float64 (rows, cols) C-contiguous array, all values finite, rows >= 2.
    """
    if not data:
        raise DataError("The file is empty (0 bytes). Upload a .npy file saved with numpy.save.")
    if not data.startswith(NPY_MAGIC):
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
    check_shape(shape[0], shape[1], max_rows=max_rows, max_cols=max_cols)

    stream.seek(0)
    try:
        array = np.lib.format.read_array(stream, allow_pickle=False)
    except Exception:
        raise DataError(
            "The .npy file is damaged or incomplete: it has less data than its header promises. "
            "Save the array again with numpy.save and upload the new file."
        ) from None
    values = np.ascontiguousarray(array, dtype=np.float64)
    check_finite(values)
    return values


def _dtype_words(dtype: np.dtype) -> str:
    if dtype.kind in "US":
        return "text (strings)"
    if dtype.kind in "Mm":
        return "dates or times"
    return f"values of type {dtype}"
