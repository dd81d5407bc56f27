"""Tests of `core.scale.synthetic`: seeded synthetic points for the block engine."""

from __future__ import annotations

import numpy as np
import pytest

from core.errors import DataError
from core.scale.synthetic import MAX_SCALE_POINTS, SCALE_DATASETS, synthetic_points

# No JAX code runs here (core.scale.synthetic draws with NumPy):
# x64 mode cannot change it (tests/conftest.py).
pytestmark = pytest.mark.numpy_only


@pytest.mark.parametrize("kind", list(SCALE_DATASETS))
def test_seeded_shape_dtype_and_order(kind, dtype):
    X = synthetic_points(kind, 5000, 3, seed=7, dtype=dtype)
    assert X.shape == (5000, 3) and X.dtype == np.dtype(dtype) and X.flags.c_contiguous
    np.testing.assert_array_equal(X, synthetic_points(kind, 5000, 3, seed=7, dtype=dtype))
    assert not np.array_equal(X, synthetic_points(kind, 5000, 3, seed=8, dtype=dtype))
    if kind == "uniform":  # ordered along x₁, inside the cube
        assert np.all(np.diff(X[:, 0]) >= 0) and np.abs(X).max() <= 1
    else:  # five contiguous clusters: neighbours in index are near in space
        step = np.linalg.norm(np.diff(X, axis=0), axis=1)
        assert np.sum(step > 4 * np.median(step)) <= 10


def test_a_million_points_is_allowed_and_more_is_refused():
    assert synthetic_points("uniform", MAX_SCALE_POINTS, 1).shape == (MAX_SCALE_POINTS, 1)
    with pytest.raises(DataError, match="1,000,001 is out of range"):
        synthetic_points("uniform", MAX_SCALE_POINTS + 1, 2)
    with pytest.raises(DataError, match="D = 9"):
        synthetic_points("blobs", 100, 9)
    with pytest.raises(DataError, match="Unknown synthetic dataset"):
        synthetic_points("moons", 100, 2)
