"""Write the upload test corpus: tests/data/bad/ and tests/data/good/.

Every file, and the EXPECTED.json beside it, comes from this script, byte for
byte the same on every run (random bytes are seeded), so the corpus can be
regenerated and diffed:

    python tests/data/make_bad_corpus.py

bad/EXPECTED.json maps each file name to {"message": a substring the user must
see in the DataError, "kwargs": extra load_table keyword arguments}.
good/EXPECTED.json maps each file name to {"shape": [rows, cols], "spot":
[[row, col], value], "warnings": substrings of describe_table_warnings output,
"kwargs": {}}.

The pickled .npy files only hold plain Python data (a dict, a list): a test
that unpickling never runs code builds its own malicious pickle at test time.
"""

from __future__ import annotations

import io
import json
import pickle
import shutil
from pathlib import Path

import numpy as np

__all__ = ["BAD", "GOOD", "write_corpus"]

HERE = Path(__file__).resolve().parent


def _npy(array: np.ndarray, allow_pickle: bool = False) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


def _npz(**arrays: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _object_array() -> np.ndarray:
    array = np.empty(3, dtype=object)
    array[:] = [{"a": 1}, [1, 2], "text"]
    return array


def _npy_with_header(header: str, payload: bytes) -> bytes:
    """A version-1.0 .npy file with a hand-written header dictionary."""
    text = header.encode("latin-1")
    padding = -(10 + len(text) + 1) % 64  # NumPy aligns the data to 64 bytes
    text += b" " * padding + b"\n"
    return b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text + payload


_VALID_NPY = _npy(np.arange(12, dtype=np.float64).reshape(4, 3))
_NPY_HEADER_LENGTH = 128  # np.save pads the 1.0 header to a multiple of 64 bytes
_OVER_CAP_CSV = b"a,b\n" + b"".join(b"%d,%d\n" % (i, 2 * i) for i in range(150))

# name -> (bytes, message substring, load_table kwargs)
BAD: dict[str, tuple[bytes, str, dict]] = {
    # Empty or nearly empty.
    "empty.csv": (b"", "The file is empty", {}),
    "whitespace_only.csv": (b"   \n\t\n  \n\n", "The file is empty", {}),
    "bom_only.csv": (b"\xef\xbb\xbf", "The file is empty", {}),
    "header_only.csv": (b"a,b,c\n", "header row but no data rows", {}),
    "header_only_single_column.csv": (b"species\n", "header row but no data rows", {}),
    "one_row.csv": (b"a,b\n1,2\n", "only 1 row of data", {}),
    "single_value.csv": (b"42\n", "only 1 row of data", {}),
    # Text where numbers are needed.
    "text_column.csv": (
        b"sepal_length,species\n5.1,setosa\n4.9,setosa\n6.3,virginica\n",
        "Column 'species' is not numeric (found 'setosa' in row 1)",
        {},
    ),
    "text_column_no_header.csv": (
        b"1,setosa\n2,versicolor\n3,virginica\n",
        "Column 2 is not numeric (found 'setosa' in row 1)",
        {},
    ),
    "two_text_columns.csv": (
        b"name,x,color\nA,1,red\nB,2,blue\n",
        "Columns 'name', 'color' are not numeric (found 'A' in column 'name', row 1)",
        {},
    ),
    "mixed_text_in_numeric.csv": (
        b"a,b\n1,2\n3,4\n5,abc\n6,7\n",
        "Column 'b' is not numeric (found 'abc' in row 3)",
        {},
    ),
    "script_tag.csv": (
        b"a,b\n1,<script>alert(1)</script>\n2,3\n",
        "found '<script>alert(1)</script>' in row 1",
        {},
    ),
    "formula.csv": (
        b"a,b\n1,2\n=cmd|' /C calc'!A0,3\n",
        "Column 'a' is not numeric (found \"=cmd|' /C calc'!A0\" in row 2)",
        {},
    ),
    "semicolon_mixed_decimals.csv": (
        b"a;b\n1,5;2.0\n1.000,5;3\n",
        "Column 'a' is not numeric (found '1.000,5' in row 2)",
        {},
    ),
    "thousands_separator.csv": (
        b"price,qty\n\"1,200.50\",3\n\"2,000.00\",4\n",
        "Column 'price' is not numeric (found '1,200.50' in row 1)",
        {},
    ),
    "html_page.csv": (
        b"<!DOCTYPE html>\n<html><head><title>data.csv</title></head>\n"
        b"<body><table><tr><td>1</td></tr></table></body></html>\n",
        "web page (HTML)",
        {},
    ),
    # Missing and non-finite values.
    "nan_value.csv": (
        b"a,b\n1,2\n3,NaN\n5,6\n",
        "1 value is missing or infinite (NaN or inf); the first is in row 2, column 'b'",
        {},
    ),
    "nan_string_quoted.csv": (
        b'a,b\n1,"nan"\n3,4\n"nan",6\n',
        "2 values are missing or infinite (NaN or inf); the first is in row 1, column 'b'",
        {},
    ),
    "inf_value.csv": (b"1,2\n3,inf\n", "the first is in row 2, column 2 (value inf)", {}),
    "neg_inf_value.csv": (b"x,y\n-inf,2\n3,4\n", "the first is in row 1, column 'x' (value -inf)", {}),
    "empty_cells.csv": (
        b"a,b,c\n1,,3\n4,5,6\n7,8,\n",
        "2 cells are empty (missing values); the first is in row 1, column 'b'",
        {},
    ),
    # An empty last cell, which pandas cannot tell from a short row on its own.
    "empty_last_cell.csv": (
        b"a,b\n1,2\n3,\n5,6\n",
        "1 cell is empty (missing values); the first is in row 2, column 'b'",
        {},
    ),
    # Words that pandas would read as missing or as booleans stay text here.
    "na_word.csv": (b"a,b\n1,2\n3,NA\n", "Column 'b' is not numeric (found 'NA' in row 2)", {}),
    "boolean_words.csv": (
        b"a,flag\n1,True\n2,false\n",
        "Column 'flag' is not numeric (found 'True' in row 1)",
        {},
    ),
    "underscore_number.csv": (
        b"a,b\n1_000,2\n3,4\n",
        "Column 'a' is not numeric (found '1_000' in row 1)",
        {},
    ),
    # Rows of different lengths.
    "ragged_short_row.csv": (
        b"a,b,c\n1,2,3\n4,5\n6,7,8\n",
        "Row 2 (line 3 of the file) has 2 values, but the header has 3",
        {},
    ),
    "ragged_long_row.csv": (
        b"1,2\n3,4,5\n6,7\n",
        "Row 2 (line 2 of the file) has 3 values, but the first row has 2",
        {},
    ),
    "ragged_whitespace.txt": (
        b"1 2 3\n4 5 6\n7 8\n",
        "Row 3 (line 3 of the file) has 2 values, but the first row has 3",
        {},
    ),
    # pandas itself only warns (and drops the extra cell) for a long first data row.
    "ragged_first_data_row.csv": (
        b"a,b\n1,2,3\n4,5\n6,7\n",
        "Row 1 (line 2 of the file) has 3 values, but the header has 2. Every row",
        {},
    ),
    "ragged_many_rows.csv": (
        b"a,b\n1,2\n\n3\n4,5,6\n7\n8,9\n",
        "Row 2 (line 4 of the file) has 1 values, but the header has 2 (3 rows have the wrong number)",
        {},
    ),
    "unclosed_quote.csv": (
        b'a,b\n1,2\n3,"4\n5,6\n',
        "Line 3 of the file has a quote mark (\") that is never closed",
        {},
    ),
    # Too big.
    "too_many_rows.csv": (
        b"x\n" + b"".join(b"%d\n" % i for i in range(20_001)),
        "20,001 rows of data; the limit is 20,000",
        {},
    ),
    # pandas stops reading after max_rows + 1 rows; the message still counts them all.
    "rows_far_over_cap.csv": (
        b"x\n" + b"".join(b"%d\n\n" % i for i in range(15)),
        "15 rows of data; the limit is 10",
        {"max_rows": 10},
    ),
    "too_many_columns.csv": (
        (",".join(f"c{j}" for j in range(1001)) + "\n"
         + ",".join("1" for _ in range(1001)) + "\n"
         + ",".join("2" for _ in range(1001)) + "\n").encode(),
        "1,001 columns; the limit is 1,000",
        {},
    ),
    "over_byte_cap.csv": (
        _OVER_CAP_CSV,
        f"The file is too large: {len(_OVER_CAP_CSV):,} bytes, and the limit is 1,000 bytes",
        {"max_bytes": 1000},
    ),
    # Not UTF-8 text.
    "binary_garbage.csv": (
        np.random.default_rng(0).integers(0, 256, size=2048, dtype=np.uint8).tobytes(),
        "does not look like text",
        {},
    ),
    "latin1.csv": (
        "température,pression\n1,2\n3,4\n".encode("latin-1"),
        "not UTF-8 text: byte 0xe9 at position 4",
        {},
    ),
    "utf16.csv": ("a,b\n1,2\n3,4\n".encode("utf-16"), "saved as UTF-16", {}),
    "npy_named_csv.csv": (_VALID_NPY, "Rename it so that it ends in .npy", {}),
    # .npy files that must be refused.
    "empty.npy": (b"", "The file is empty (0 bytes)", {}),
    "pickled_object.npy": (_npy(_object_array(), allow_pickle=True), "Python objects (pickled data)", {}),
    "object_2d.npy": (
        _npy(np.array([[1.0, 2.0], [3.0, 4.0]], dtype=object), allow_pickle=True),
        "Python objects (pickled data)",
        {},
    ),
    "raw_pickle.npy": (pickle.dumps({"X": [[1, 2], [3, 4]]}, protocol=4), "looks like a Python pickle", {}),
    "npz_archive.npy": (_npz(X=np.eye(3)), "looks like a .npz archive (several arrays)", {}),
    "csv_named_npy.npy": (b"1,2\n3,4\n", "not a valid .npy file. It does not start with the NumPy header", {}),
    "three_d.npy": (_npy(np.zeros((2, 3, 4))), "3-D array of shape (2, 3, 4)", {}),
    "one_d.npy": (_npy(np.arange(5.0)), "1-D array of 5 values", {}),
    "zero_d.npy": (_npy(np.float64(3.5)), "single number (a 0-D array)", {}),
    "strings.npy": (_npy(np.array([["a", "b"], ["c", "d"]])), "holds text (strings), not numbers", {}),
    "bytes_strings.npy": (_npy(np.array([[b"1", b"2"], [b"3", b"4"]])), "holds text (strings), not numbers", {}),
    "datetimes.npy": (
        _npy(np.array([["2024-01-01"], ["2024-01-02"]], dtype="datetime64[D]")),
        "holds dates or times, not numbers",
        {},
    ),
    "complex.npy": (_npy(np.ones((3, 2), dtype=np.complex128)), "complex numbers", {}),
    "structured.npy": (
        _npy(np.zeros(4, dtype=[("x", "f8"), ("y", "i4")])),
        "structured array (fields: x, y)",
        {},
    ),
    "truncated_header.npy": (_VALID_NPY[:30], "header could not be read", {}),
    "corrupt_header.npy": (
        _npy_with_header(
            "{'descr': __import__('os').system('echo hacked'), 'fortran_order': False, 'shape': (4, 3), }",
            _VALID_NPY[_NPY_HEADER_LENGTH:],
        ),
        "header could not be read",
        {},
    ),
    "truncated_data.npy": (_VALID_NPY[: _NPY_HEADER_LENGTH + 20], "less data than its header promises", {}),
    "nan.npy": (
        _npy(np.array([[1.0, 2.0], [3.0, np.nan], [np.inf, 6.0]])),
        "2 values are missing or infinite (NaN or inf); the first is in row 2, column 2",
        {},
    ),
    "one_row.npy": (_npy(np.ones((1, 3))), "only 1 row of data", {}),
    "too_many_rows.npy": (_npy(np.zeros((20_001, 1), dtype=bool)), "20,001 rows of data; the limit is 20,000", {}),
    "too_many_columns.npy": (_npy(np.zeros((2, 1001), dtype=np.int8)), "1,001 columns; the limit is 1,000", {}),
    # Unsupported file types.
    "junk.xlsx": (b"PK\x03\x04" + bytes(range(256)), "Spreadsheet files (.xlsx) are not supported", {}),
    "data.pkl": (pickle.dumps([1, 2, 3]), "Pickle files (.pkl) are never opened", {}),
    "data.json": (b'{"X": [[1, 2], [3, 4]]}', "Unsupported file type '.json'", {}),
    "no_extension": (b"1,2\n3,4\n", "Unsupported file type (no extension)", {}),
}

# name -> (bytes, shape, ((row, col), value), warning substrings)
GOOD: dict[str, tuple[bytes, tuple[int, int], tuple[tuple[int, int], float], list[str]]] = {
    "mixed_decimal_marks.csv": (b"a;b\n1,5;2.0\n3;4,25\n", (2, 2), ((1, 1), 4.25), []),
    "semicolon_dot_decimals.csv": (b"a;b\n1.5;2.5\n3;4\n", (2, 2), ((0, 0), 1.5), []),
    "tab_blank_lines.tsv": (b"a\tb\n1\t2\n\t\n \t \n3\t4\n", (2, 2), ((1, 0), 3.0), []),
    "huge_integer.csv": (b"1,99999999999999999999999\n3,4\n", (2, 2), ((0, 1), 1e23), []),
    "bom_semicolon.csv": (
        b"\xef\xbb\xbfa;b;c\r\n1,5;2,0;3\r\n4;5,25;6\r\n",
        (2, 3), ((1, 1), 5.25), [],
    ),
    "decimal_comma.csv": (b"1,5;2,0\n3,25;4\n", (2, 2), ((1, 0), 3.25), []),
    "tab_separated.tsv": (b"x\ty\n1\t2\n3\t4\n5\t6\n", (3, 2), ((2, 1), 6.0), []),
    "tab_decimal_comma.txt": (b"0,5\t1\n2\t3,75\n", (2, 2), ((1, 1), 3.75), []),
    "quoted_numbers.csv": (b'"a","b"\n"1.5","2"\n"3",4\n', (2, 2), ((0, 0), 1.5), []),
    "spaces_after_commas.csv": (b'a, b\n1, 2\n3, "4.5"\n', (2, 2), ((1, 1), 4.5), []),
    "constant_column.csv": (b"a,b\n1,7\n2,7\n3,7\n", (3, 2), ((2, 1), 7.0), ["Column 2 has the same value"]),
    "duplicate_rows.csv": (b"1,2\n3,4\n1,2\n1,2\n", (4, 2), ((3, 0), 1.0), ["2 rows are exact copies"]),
    "single_column.csv": (b"value\n1\n2\n3\n", (3, 1), ((2, 0), 3.0), []),
    "ints.csv": (b"1,2,3\n4,5,6\n", (2, 3), ((1, 2), 6.0), []),
    "scientific.csv": (b"1e-3,2E+5\n-0.5,.25\n", (2, 2), ((0, 1), 2e5), []),
    "whitespace_separated.txt": (b"1 2   3\n4\t5 6\n", (2, 3), ((1, 1), 5.0), []),
    "blank_lines.csv": (b"a,b\n\n1,2\n\n3,4\n\n\n  \n", (2, 2), ((1, 0), 3.0), []),
    "windows_line_endings.csv": (b"a,b\r\n1,2\r\n3,4\r\n", (2, 2), ((1, 1), 4.0), []),
    "pandas_index.csv": (b",a,b\n0,1.5,2\n1,3,4\n", (2, 3), ((0, 1), 1.5), []),
    "no_trailing_newline.csv": (b"1,2\n3,4", (2, 2), ((1, 1), 4.0), []),
    "float32.npy": (_npy(np.array([[0.5, 1.0], [2.0, 3.0]], dtype=np.float32)), (2, 2), ((0, 0), 0.5), []),
    "int64.npy": (_npy(np.arange(6, dtype=np.int64).reshape(3, 2)), (3, 2), ((2, 1), 5.0), []),
    "bool.npy": (_npy(np.array([[True, False], [False, True]])), (2, 2), ((1, 1), 1.0), []),
    "fortran_order.npy": (
        _npy(np.asfortranarray(np.arange(6.0).reshape(2, 3))),
        (2, 3), ((1, 0), 3.0), [],
    ),
    "big_endian.npy": (_npy(np.arange(4.0).reshape(2, 2).astype(">f8")), (2, 2), ((1, 1), 3.0), []),
}


def write_corpus(root: Path = HERE) -> None:
    """(Re)write bad/ and good/ under `root`, removing stale files first."""
    for folder, entries in (("bad", BAD), ("good", GOOD)):
        directory = root / folder
        if directory.exists():
            shutil.rmtree(directory)
        directory.mkdir(parents=True)
        expected = {}
        for name, entry in sorted(entries.items()):
            (directory / name).write_bytes(entry[0])
            if folder == "bad":
                expected[name] = {"message": entry[1], "kwargs": entry[2]}
            else:
                shape, (index, value), warnings = entry[1], entry[2], entry[3]
                expected[name] = {
                    "shape": list(shape),
                    "spot": [list(index), value],
                    "warnings": warnings,
                    "kwargs": {},
                }
        (directory / "EXPECTED.json").write_text(
            json.dumps(expected, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )


if __name__ == "__main__":
    write_corpus()
    print(f"wrote {len(BAD)} bad and {len(GOOD)} good files under {HERE}")
