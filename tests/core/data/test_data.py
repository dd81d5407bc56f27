"""Tests for core.data: built-in datasets and validated user uploads."""

from __future__ import annotations

import importlib.util
import io
import json
import pickle
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from core.data import (
    DATASETS,
    MAX_POINTS,
    describe_table_warnings,
    load_dataset,
    load_table,
)
from core.errors import DataError

# No JAX code runs here (core.data reads with pandas and NumPy, and builds its datasets with
# scikit-learn): x64 mode cannot change it (tests/conftest.py).
pytestmark = pytest.mark.numpy_only

DATA_DIR = Path(__file__).resolve().parents[2] / "data"
BAD_DIR = DATA_DIR / "bad"
GOOD_DIR = DATA_DIR / "good"
BAD_EXPECTED = json.loads((BAD_DIR / "EXPECTED.json").read_text(encoding="utf-8"))
GOOD_EXPECTED = json.loads((GOOD_DIR / "EXPECTED.json").read_text(encoding="utf-8"))


class UploadedBytes(io.BytesIO):
    """What st.file_uploader hands the app: a BytesIO with .name, .type and .size."""

    def __init__(self, data: bytes, name: str, type: str = "application/octet-stream") -> None:
        super().__init__(data)
        self.name = name
        self.type = type
        self.size = len(data)


# --------------------------------------------------------------------------- #
# load_dataset
# --------------------------------------------------------------------------- #


def test_dataset_names_are_the_documented_ones_in_order():
    assert list(DATASETS) == [
        "blobs", "moons", "circles", "uniform", "grid1d",
        "iris", "wine", "breast_cancer", "digits",
    ]
    for name, spec in DATASETS.items():
        assert spec.name == name
        assert spec.kind in ("synthetic", "real")
        assert spec.label and spec.description
        assert (spec.n_available is None) == (spec.kind == "synthetic")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", list(DATASETS))
def test_dataset_shape_dtype_and_labels(name, dtype):
    X, y = load_dataset(name, n=40, seed=1, dtype=dtype)
    spec = DATASETS[name]
    assert X.shape == (40, spec.n_features)
    assert X.dtype == np.dtype(dtype) and X.flags.c_contiguous
    assert y.shape == (40,) and np.issubdtype(y.dtype, np.integer)
    assert np.isfinite(X).all()
    if name in ("uniform", "grid1d"):
        assert not y.any()
    else:
        assert len(np.unique(y)) >= 2


@pytest.mark.parametrize("name", list(DATASETS))
def test_dataset_is_deterministic_in_its_arguments(name):
    X1, y1 = load_dataset(name, n=60, seed=3, noise=0.2)
    X2, y2 = load_dataset(name, n=60, seed=3, noise=0.2)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    X3, _ = load_dataset(name, n=60, seed=4, noise=0.2)
    assert DATASETS[name].uses_seed == (not np.array_equal(X1, X3))
    X4, _ = load_dataset(name, n=60, seed=3, noise=0.05)
    assert DATASETS[name].uses_noise == (not np.array_equal(X1, X4))


@pytest.mark.parametrize("name", ["iris", "wine", "breast_cancer", "digits"])
def test_real_dataset_all_rows_in_original_order_when_n_is_large(name):
    from sklearn import datasets

    bunch = getattr(datasets, f"load_{name}")()
    spec = DATASETS[name]
    assert spec.n_available == bunch.data.shape[0]
    assert spec.n_features == bunch.data.shape[1]
    X, y = load_dataset(name, n=MAX_POINTS, dtype="float64")
    np.testing.assert_array_equal(X, bunch.data)
    np.testing.assert_array_equal(y, bunch.target)


def test_real_subsample_keeps_class_proportions_and_order():
    X, y = load_dataset("iris", n=30, seed=7, dtype="float64")
    assert np.bincount(y).tolist() == [10, 10, 10]
    full, _ = load_dataset("iris", n=150, dtype="float64")
    rows = [np.flatnonzero((full == row).all(axis=1))[0] for row in X]
    assert rows == sorted(rows) and len(set(rows)) == 30  # no repeats, original order


def test_real_dataset_cache_cannot_be_corrupted_by_a_caller():
    X, y = load_dataset("wine", n=500, dtype="float64")
    X[:] = 0.0
    y[:] = -1
    X_again, y_again = load_dataset("wine", n=500, dtype="float64")
    assert X_again.any() and (y_again >= 0).all()


def test_grid1d_is_an_even_grid_column():
    X, _ = load_dataset("grid1d", n=7, dtype="float64")
    np.testing.assert_allclose(X[:, 0], np.linspace(-3.0, 3.0, 7))


def test_standardize_gives_zero_mean_unit_variance():
    X, _ = load_dataset("wine", n=178, standardize=True, dtype="float64")
    np.testing.assert_allclose(X.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(X.std(axis=0), 1.0, rtol=1e-12)
    X_digits, _ = load_dataset("digits", n=200, standardize=True)  # has constant pixels
    assert np.isfinite(X_digits).all()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"name": "foo"}, "Unknown dataset 'foo'. Choose one of: blobs, moons, circles"),
        ({"name": "moons", "n": 1}, "at least 2"),
        ({"name": "moons", "n": MAX_POINTS + 1}, f"Choose n <= {MAX_POINTS:,}"),
        ({"name": "iris", "n": MAX_POINTS + 1}, f"Choose n <= {MAX_POINTS:,}"),
        ({"name": "moons", "n": 10.5}, "whole number"),
        ({"name": "moons", "noise": -0.1}, "Choose noise >= 0"),
        ({"name": "moons", "noise": float("nan")}, "Choose noise >= 0"),
        ({"name": "moons", "seed": -1}, "seed must be a whole number"),
        ({"name": "moons", "dtype": "complex64"}, "Choose float32 or float64"),
    ],
)
def test_dataset_argument_errors_name_the_fix(kwargs, message):
    with pytest.raises(DataError) as info:
        load_dataset(**kwargs)
    assert message in str(info.value)


# --------------------------------------------------------------------------- #
# load_table: corpus of bad and good uploads
# --------------------------------------------------------------------------- #


def test_corpus_is_big_enough_and_up_to_date(tmp_path):
    """The committed corpus is exactly what the generator script writes."""
    spec = importlib.util.spec_from_file_location("make_bad_corpus", DATA_DIR / "make_bad_corpus.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.write_corpus(tmp_path)
    for folder in ("bad", "good"):
        fresh = {p.name: p.read_bytes() for p in (tmp_path / folder).iterdir()}
        committed = {p.name: p.read_bytes() for p in (DATA_DIR / folder).iterdir()}
        assert fresh == committed, f"run: python tests/data/make_bad_corpus.py ({folder}/ is stale)"
    assert len(BAD_EXPECTED) >= 30


@pytest.mark.parametrize("name", sorted(BAD_EXPECTED))
def test_bad_upload_is_refused_with_its_message(name):
    expected = BAD_EXPECTED[name]
    data = (BAD_DIR / name).read_bytes()
    for source in (BAD_DIR / name, str(BAD_DIR / name), UploadedBytes(data, name)):
        with pytest.raises(DataError) as info:
            load_table(source, **expected["kwargs"])
        assert expected["message"] in str(info.value), (name, str(info.value))


@pytest.mark.parametrize("name", sorted(GOOD_EXPECTED))
def test_good_upload_loads(name):
    expected = GOOD_EXPECTED[name]
    data = (GOOD_DIR / name).read_bytes()
    for source in (GOOD_DIR / name, UploadedBytes(data, name)):
        X = load_table(source, **expected["kwargs"])
        assert X.shape == tuple(expected["shape"])
        assert X.dtype == np.float64 and X.flags.c_contiguous
        (row, col), value = expected["spot"]
        assert X[row, col] == value
        warnings = describe_table_warnings(X)
        assert len(warnings) == len(expected["warnings"])
        for substring in expected["warnings"]:
            assert any(substring in warning for warning in warnings), warnings


def test_streamlit_uploaded_file_is_accepted():
    uploaded_file_manager = pytest.importorskip("streamlit.runtime.uploaded_file_manager")

    def upload(name: str, data: bytes):
        record = uploaded_file_manager.UploadedFileRec(
            file_id="1", name=name, type="text/csv", data=data
        )
        return uploaded_file_manager.UploadedFile(record, file_urls=None)

    X = load_table(upload("dir/x.csv", (GOOD_DIR / "bom_semicolon.csv").read_bytes()))
    assert X.shape == (2, 3)
    with pytest.raises(DataError, match="is not numeric"):
        load_table(upload("t.csv", (BAD_DIR / "text_column.csv").read_bytes()))


def test_upload_already_read_to_the_end_still_loads():
    upload = UploadedBytes(b"1,2\n3,4\n", "x.csv")
    upload.read()  # a previous Streamlit rerun may have consumed it
    assert load_table(upload).tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert load_table(upload).shape == (2, 2)


def test_size_is_checked_before_the_file_is_read():
    class UnreadableUpload(UploadedBytes):
        def read(self, *args):
            raise AssertionError("read() called on a file already known to be too large")

    upload = UnreadableUpload(b"1,2\n" * 1000, "big.csv")
    with pytest.raises(DataError, match="too large"):
        load_table(upload, max_bytes=100)


@pytest.mark.parametrize("suffix", [".csv", ".npy"])
def test_row_and_column_limits_are_inclusive(tmp_path, suffix):
    def write(array):
        path = tmp_path / f"t{suffix}"
        if suffix == ".npy":
            np.save(path, array)
        else:
            np.savetxt(path, array, delimiter=",")
        return path

    assert load_table(write(np.ones((5, 3))), max_rows=5, max_cols=3).shape == (5, 3)
    with pytest.raises(DataError, match="6 rows of data; the limit is 5"):
        load_table(write(np.ones((6, 3))), max_rows=5)
    with pytest.raises(DataError, match="4 columns; the limit is 3"):
        load_table(write(np.ones((5, 4))), max_cols=3)


def test_missing_path_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="Could not open"):
        load_table(tmp_path / "nope.csv")


def test_bad_cell_after_many_good_rows_is_found():
    rows = "\n".join(f"{i},{i + 0.5}" for i in range(3000))
    with pytest.raises(DataError, match=r"found 'oops' in row 3001"):
        load_table(UploadedBytes((rows + "\n7,oops\n").encode(), "x.csv"))


def test_wrong_field_count_after_many_good_rows_is_found():
    rows = "".join(f"{i},{i + 0.5}\n" for i in range(3000))
    with pytest.raises(DataError, match=r"Row 3001 \(line 3002 of the file\) has 3 values, but "
                                        r"the header has 2\. Every row"):
        load_table(UploadedBytes(("a,b\n" + rows + "7,8,9\n").encode(), "x.csv"))


def test_every_short_row_is_counted_when_there_are_many():
    rows = "".join("1,2\n" if i % 2 else "3\n" for i in range(601))
    with pytest.raises(DataError, match=r"Row 2 \(line 2 of the file\) has 1 values, but the "
                                        r"first row has 2 \(301 rows have the wrong number\)"):
        load_table(UploadedBytes(("1,2\n" + rows).encode(), "x.csv"), max_rows=1000)


@pytest.fixture
def read_csv_calls(monkeypatch):
    """The keyword arguments of every pandas.read_csv call that load_table makes."""
    import pandas as pd

    calls: list[dict] = []
    real = pd.read_csv

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(pd, "read_csv", spy)
    return calls


def test_pandas_reads_at_most_one_row_over_the_cap(read_csv_calls):
    text = "x\n" + "".join(f"{i}\n" for i in range(50))
    with pytest.raises(DataError, match="50 rows of data; the limit is 10"):
        load_table(UploadedBytes(text.encode(), "x.csv"), max_rows=10)
    assert read_csv_calls and all(call["nrows"] == 11 for call in read_csv_calls)


def test_far_too_many_columns_are_refused_before_pandas_parses(read_csv_calls):
    line = ",".join(["1"] * 100_000)
    with pytest.raises(DataError, match="100,000 columns; the limit is 1,000"):
        load_table(UploadedBytes(f"{line}\n{line}\n".encode(), "x.csv"))
    assert read_csv_calls == []


@pytest.mark.parametrize("delimiter, decimal", [(",", "."), (";", ","), ("\t", ","), (" ", ".")])
def test_a_larger_table_matches_numpy(delimiter, decimal):
    X = np.random.default_rng(5).standard_normal((3000, 7)) * 1e3
    buffer = io.StringIO()
    np.savetxt(buffer, X, delimiter=delimiter, fmt="%.17g",
               header=delimiter.join(f"feature {j}" for j in range(7)) if delimiter != " " else "",
               comments="")
    text = buffer.getvalue().replace(".", decimal)
    np.testing.assert_array_equal(load_table(UploadedBytes(text.encode(), "x.csv")), X)


# --------------------------------------------------------------------------- #
# Pickles are never unpickled
# --------------------------------------------------------------------------- #


class _CreatesFileWhenUnpickled:
    """Unpickling this calls open(marker, "w"): proof that code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_malicious_pickle_payload_is_live(tmp_path):
    """Control: the payload used below really runs when something unpickles it."""
    marker = tmp_path / "ran"
    path = tmp_path / "evil.npy"
    np.save(path, np.array([_CreatesFileWhenUnpickled(marker)], dtype=object), allow_pickle=True)
    np.load(path, allow_pickle=True)
    assert marker.exists()


@pytest.mark.parametrize("kind", ["npy_object_array", "raw_pickle_as_npy", "pkl"])
def test_pickles_are_refused_without_running_code(tmp_path, kind):
    marker = tmp_path / "ran"
    payload = _CreatesFileWhenUnpickled(marker)
    if kind == "npy_object_array":
        buffer = io.BytesIO()
        np.save(buffer, np.array([payload], dtype=object), allow_pickle=True)
        data, name = buffer.getvalue(), "evil.npy"
    elif kind == "raw_pickle_as_npy":
        data, name = pickle.dumps(payload), "evil.npy"
    else:
        data, name = pickle.dumps(payload), "evil.pkl"
    (tmp_path / name).write_bytes(data)
    for source in (tmp_path / name, UploadedBytes(data, name)):
        with pytest.raises(DataError):
            load_table(source)
    assert not marker.exists()


# --------------------------------------------------------------------------- #
# Warnings and round trips
# --------------------------------------------------------------------------- #


def test_describe_table_warnings():
    assert describe_table_warnings(np.array([[1.0, 2.0], [3.0, 4.0]])) == []
    constant = describe_table_warnings(np.array([[1.0, 5.0, 0.0], [2.0, 5.0, 0.0]]))
    assert len(constant) == 1 and "Columns 2, 3 have the same value" in constant[0]
    duplicates = describe_table_warnings(np.array([[0.0, 1.0], [-0.0, 1.0], [2.0, 3.0]]))
    assert len(duplicates) == 1 and "1 row is an exact copy" in duplicates[0]


_finite = st.floats(allow_nan=False, allow_infinity=False, width=64)
_matrix_shapes = hnp.array_shapes(min_dims=2, max_dims=2, min_side=2, max_side=6)


@settings(max_examples=30, deadline=None, database=None)  # no .hypothesis/ in the repo
@given(
    X=hnp.arrays(np.float64, _matrix_shapes, elements=_finite),
    delimiter=st.sampled_from([",", ";", "\t", " "]),
    header=st.booleans(),
)
def test_any_finite_matrix_round_trips_through_csv(X, delimiter, header):
    buffer = io.StringIO()
    names = delimiter.join(f"x{j}" for j in range(X.shape[1])) if header else ""
    np.savetxt(buffer, X, delimiter=delimiter, header=names, comments="")
    loaded = load_table(UploadedBytes(buffer.getvalue().encode(), "x.csv"))
    np.testing.assert_array_equal(loaded, X)


@settings(max_examples=30, deadline=None, database=None)
@given(
    X=hnp.arrays(np.float64, _matrix_shapes, elements=_finite),
    delimiter=st.sampled_from([";", "\t"]),  # a comma in the first row means comma-separated
    header=st.booleans(),
)
def test_any_finite_matrix_round_trips_with_decimal_commas(X, delimiter, header):
    buffer = io.StringIO()
    names = delimiter.join(f"x{j}" for j in range(X.shape[1])) if header else ""
    np.savetxt(buffer, X, delimiter=delimiter, header=names, comments="")
    text = buffer.getvalue().replace(".", ",")  # as a European spreadsheet writes
    loaded = load_table(UploadedBytes(text.encode(), "x.csv"))
    np.testing.assert_array_equal(loaded, X)
