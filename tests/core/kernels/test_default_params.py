"""Per-kernel defaults computed from the data (`default_params_for`).

What a user would notice: with the defaults, every kernel's heatmap shows the data's
structure (k at the median distance is exp(-1/2), as RBF's is under the median
heuristic) instead of noise, an all-ones matrix or the identity. Expected values
from scikit-learn's distances and kernels.
"""

from __future__ import annotations

import numpy as np
import pytest

from core.data import load_dataset
from core.kernels import KERNELS, default_params, default_params_for

pairwise = pytest.importorskip("sklearn.metrics.pairwise")
gp_kernels = pytest.importorskip("sklearn.gaussian_process.kernels")

DATASETS = ("digits", "blobs", "iris", "wine")


def data(name: str, n: int = 400) -> tuple[np.ndarray, np.ndarray]:
    return load_dataset(name, n=n, seed=0, noise=0.1, dtype="float64")


def upper(M: np.ndarray) -> np.ndarray:
    return M[np.triu_indices(M.shape[0], 1)]


def class_contrast(K: np.ndarray, y: np.ndarray) -> float:
    """(mean k within a class − mean k across classes) / std of k: how clearly the
    class blocks of a label-ordered heatmap stand out (about 0 for noise)."""
    same = y[:, None] == y[None, :]
    off = ~np.eye(y.size, dtype=bool)
    return float((K[same & off].mean() - K[~same].mean()) / K[off].std())


@pytest.mark.parametrize("name", DATASETS)
def test_lengthscale_kernels_get_the_median_heuristic(name):
    X, _ = data(name)
    expected = 1.0 / (2.0 * np.median(upper(pairwise.euclidean_distances(X, squared=True))))
    for kernel in ("rbf", "matern32", "matern52", "rational_quadratic"):
        assert default_params_for(kernel, X)["gamma"] == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("name", DATASETS)
def test_laplacian_is_exp_minus_half_at_the_median_l1_distance(name):
    X, _ = data(name)
    gamma = default_params_for("laplacian", X)["gamma"]
    d1 = upper(pairwise.manhattan_distances(X))
    assert gamma == pytest.approx(0.5 / np.median(d1), rel=1e-9)
    K = pairwise.laplacian_kernel(X, gamma=gamma)
    # Half of the pairs are more similar than exp(-1/2), half less.
    assert np.median(upper(K)) == pytest.approx(np.exp(-0.5), rel=1e-2)


@pytest.mark.parametrize("name", DATASETS)
def test_periodic_default_shows_the_classes_not_noise(name):
    X, y = data(name)
    p = default_params_for("periodic", X)
    d = upper(pairwise.euclidean_distances(X))
    assert p["period"] == pytest.approx(2 * d.max(), rel=1e-9)
    # scikit-learn's ExpSineSquared is exp(-2 sin²(π d/p) / l²): ours with gamma = 1/(2 l²).
    K = gp_kernels.ExpSineSquared(length_scale=np.sqrt(1 / (2 * p["gamma"])),
                                  periodicity=p["period"])(X)
    assert np.median(upper(K)) == pytest.approx(np.exp(-0.5), rel=1e-2)
    # The class blocks stand out (measured: 0.77 to 1.8); with the fixed default
    # period 1 and the RBF gamma they do not (|contrast| < 0.25: noise).
    assert class_contrast(K, y) > 0.5
    old_gamma = default_params_for("rbf", X)["gamma"]
    K_old = gp_kernels.ExpSineSquared(length_scale=np.sqrt(1 / (2 * old_gamma)), periodicity=1.0)(X)
    assert abs(class_contrast(K_old, y)) < 0.25


def test_periodic_period_stays_in_its_slider_range():
    spec = next(q for q in KERNELS["periodic"].params if q.name == "period")
    X = np.array([[0.0], [1e6]])
    assert default_params_for("periodic", X)["period"] == spec.high
    X = np.array([[0.0], [1e-6], [2e-6]])
    assert default_params_for("periodic", X)["period"] == spec.low


def test_polynomial_default_keeps_high_degrees_finite_in_float32():
    X, _ = data("breast_cancer")  # unstandardised: |x|² up to about 1e7
    p = default_params_for("polynomial", X)
    assert p["gamma"] == pytest.approx(1.0 / np.mean(np.sum(X**2, axis=1)), rel=1e-9)
    K = pairwise.polynomial_kernel(X.astype(np.float32), degree=6, gamma=p["gamma"],
                                   coef0=p["coef0"])
    assert np.all(np.isfinite(K))
    with np.errstate(over="ignore"):  # the fixed default gamma = 1 overflows: that is the point
        fixed = pairwise.polynomial_kernel(X.astype(np.float32), degree=6, gamma=1.0, coef0=1.0)
    assert not np.all(np.isfinite(fixed))


@pytest.mark.parametrize("kernel", list(KERNELS))
def test_degenerate_data_falls_back_to_the_spec_defaults(kernel):
    assert default_params_for(kernel, np.ones((1, 3))) == default_params(kernel)
    same = default_params_for(kernel, np.zeros((5, 2)))
    assert set(same) == set(default_params(kernel))
    assert all(np.isfinite(v) and v > 0 or v == 0 for v in same.values())
