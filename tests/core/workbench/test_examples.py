"""Every example of the Workbench's menu does what its blurb says, through the real workers.

Each example runs as the page runs it (`workbench_view` in a worker process); the
claims of its blurb are computed here: the notes' RBF equals scikit-learn's by every
way, the Python `if` stops with JAX's TracerBoolConversionError, lax.cond turns into
select_n, the sqrt has a NaN gradient and its safe form has not, and so on.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics.pairwise import laplacian_kernel, rbf_kernel

import core
from core.errors import UserCodeError
from core.workbench import check_source
from core.workbench.examples import EXAMPLES
from core.workbench.run import workbench_view

N = 120


@pytest.fixture(scope="module")
def blobs():
    X, _ = core.load_dataset("blobs", n=N, seed=0)
    return X


def _view(name, X, dtype="float32", **params):
    source = EXAMPLES[name].source
    params = {"gamma": 0.5, "ratio": 2.0, **params}
    params = {k: v for k, v in params.items() if k in check_source(source).param_names}
    return workbench_view(source, X, params, dtype)


def _kinds(view):
    return {f.kind: f for f in view.findings}


def test_the_menu_opens_on_the_notes_rbf_verbatim():
    name, example = next(iter(EXAMPLES.items()))
    assert name == "The notes' RBF"
    assert "def sqeuclidean_distances(x: np.ndarray, y: np.ndarray) -> float:\n" \
           "    return np.sum( (x - y) ** 2)" in example.source
    assert "    return np.exp(- params['gamma'] * (sqeuclidean_distances(x, y)) )" in example.source
    assert all(ex.blurb and ex.source.endswith("\n") for ex in EXAMPLES.values())


def test_the_notes_rbf_by_every_way_equals_scikit_learn_on_iris(workers):
    X, _ = core.load_dataset("iris", n=150)
    X = X.astype(np.float64)
    view = _view("The notes' RBF", X, "float64", gamma=0.3)
    np.testing.assert_allclose(view.K, rbf_kernel(X, gamma=0.3), atol=1e-12)
    assert set(view.ways) == {"Method I", "Method II", "pair list"}
    assert all(w.agrees and w.max_abs_diff <= 1e-12 for w in view.ways.values())


def test_laplacian_is_scikit_learns_and_positive_definite(workers, blobs):
    view = _view("Laplacian", blobs, "float64")
    np.testing.assert_allclose(view.K, laplacian_kernel(blobs.astype(np.float64), gamma=0.5), atol=1e-12)
    assert view.definiteness == "positive definite"


def test_a_python_if_stops_with_jaxs_tracer_bool_conversion_error(workers, blobs):
    with pytest.raises(UserCodeError, match="TracerBoolConversionError"):
        _view("Python if (fails)", blobs)


def test_np_where_fixes_it_and_lax_cond_becomes_select_n(workers, blobs):
    where = _view("Python if, fixed with np.where", blobs)
    cond = _view("lax.cond (becomes select_n)", blobs)
    d2 = ((blobs[:, None, :] - blobs[None, :, :]) ** 2).sum(-1)
    expected = np.where(d2 < 1.0, 1.0 - d2 / 2.0, np.exp(-0.5 * d2))
    np.testing.assert_allclose(where.K, expected, atol=2e-6)
    np.testing.assert_allclose(cond.K, where.K, atol=2e-6)
    assert "select" in _kinds(cond) and "select" not in _kinds(where)
    assert "select_n" in cond.jaxpr_batched and "cond" in cond.jaxpr_pair


def test_literal_indexing_stays_a_slice_no_gather(workers, blobs):
    found = _kinds(_view("Indexing x[0], x[1] (ARD)", blobs))
    assert "index" in found and "gather" not in found


def test_the_linear_algebra_example_is_measured(workers, blobs):
    found = _kinds(_view("Linear algebra (np.linalg.solve)", blobs))
    assert "triangular_solve" in found["linalg"].sentence
    assert "Measured on 64 pairs" in found["linalg"].detail


def test_sqrt_has_a_nan_gradient_and_its_safe_form_the_same_K_without(workers, blobs):
    raw = _view("np.sqrt of a distance (NaN gradient)", blobs)
    safe = _view("np.sqrt, safe at zero", blobs)
    assert "nan_grad" in _kinds(raw) and "nan_grad" not in _kinds(safe)
    assert raw.nonfinite == 0
    np.testing.assert_allclose(safe.K, raw.K, atol=2e-6)


def test_minus_the_squared_distance_is_not_positive_semi_definite(workers, blobs):
    view = _view("Not a kernel: −‖x − y‖²", blobs)
    assert np.allclose(np.diag(view.K), 0.0) and view.asymmetry == 0.0
    assert view.min_eigenvalue < -view.roundoff
    assert "not_psd" in _kinds(view) and "-" in _kinds(view)["not_psd"].sentence


@pytest.mark.parametrize("name", [n for n in EXAMPLES if n != "Python if (fails)"])
def test_every_other_example_runs_and_its_ways_agree(workers, blobs, name):
    view = _view(name, blobs)
    assert view.K.shape == (N, N)
    assert all(w.agrees for w in view.ways.values()), view.ways
