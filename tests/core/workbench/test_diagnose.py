"""Each finding the workbench reports, computed from a kernel that has it and one that has not.

The kernels here are plain Python (jax.numpy), run by `compute_view` in this process:
the findings are read from the same jaxprs and numbers the worker reads.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax

from core.workbench.diagnose import LINKS, SAFE_SQRT, Finding
from core.workbench.view import compute_view


def _X(n=40, d=2, seed=0):
    return np.random.default_rng(seed).normal(size=(n, d)).astype(np.float32)


def _findings(kernel, X=None, params=None, dtype="float32", name=None) -> dict[str, Finding]:
    view = compute_view(kernel, name or kernel.__name__, _X() if X is None else X,
                        params or {"gamma": 0.5}, dtype)
    return {f.kind: f for f in view.findings}


def rbf(params, x, y):
    return jnp.exp(-params["gamma"] * jnp.sum((x - y) ** 2))


def test_every_finding_is_one_sentence_with_a_link_to_a_page():
    found = _findings(lambda p, x, y: -jnp.sum((x - y) ** 2), name="neg")
    for f in found.values():
        assert f.sentence.count(". ") <= 1 and f.link in LINKS.values()
    assert "/further?further_topic=Memory" in LINKS.values()
    assert "/further?further_topic=Control+flow" in LINKS.values()


def test_batched_intermediates_are_compared_with_one_pair():
    size = _findings(rbf)["size"]
    assert "(2,)" in size.sentence and "(40, 40, 2)" in size.sentence and "`sub`" in size.sentence


def test_an_intermediate_near_the_budget_points_to_lax_map_batch_size():
    X = _X(1000, 20)
    found = _findings(rbf, X=X)
    # (1000, 1000, 20) float32 = 76 MiB: over a quarter of the 256 MiB one array may take.
    assert "memory" in found and "batch_size" in found["memory"].sentence
    assert "(1,000, 1,000, 20)" in found["memory"].sentence


def test_lax_cond_on_a_batched_predicate_becomes_select_n():
    def cond_kernel(params, x, y):
        d2 = jnp.sum((x - y) ** 2)
        return lax.cond(d2 < 1.0, lambda d: 1.0 - d / 2, lambda d: jnp.exp(-d), d2)

    def where_kernel(params, x, y):
        d2 = jnp.sum((x - y) ** 2)
        return jnp.where(d2 < 1.0, 1.0 - d2 / 2, jnp.exp(-d2))

    assert "select_n" in _findings(cond_kernel)["select"].sentence
    assert "select" not in _findings(where_kernel)


def test_a_fori_loop_is_a_scan_over_the_whole_batch():
    def loop_kernel(params, x, y):
        d2 = jnp.sum((x - y) ** 2)
        return lax.fori_loop(0, 5, lambda i, acc: acc * 0.5 + d2, 0.0)

    assert "scan" in _findings(loop_kernel)["loop"].sentence
    assert "loop" not in _findings(rbf)


def test_computed_indexing_is_a_gather_and_literal_indexing_a_slice():
    def take_kernel(params, x, y):
        return jnp.exp(-(jnp.take(x, 0) - jnp.take(y, 0)) ** 2)

    def literal_kernel(params, x, y):
        return jnp.exp(-(x[0] - y[0]) ** 2)

    assert "gather" in _findings(take_kernel)["gather"].sentence
    found = _findings(literal_kernel)
    assert "gather" not in found and "slice" in found["index"].sentence


def test_linear_algebra_under_vmap_is_measured_not_assumed():
    def solve_kernel(params, x, y):
        d = x - y
        return jnp.exp(-jnp.dot(d, jnp.linalg.solve(jnp.eye(2) + jnp.outer(x, x), d)))

    found = _findings(solve_kernel)
    linalg = found["linalg"]
    assert "`lu`" in linalg.sentence and "triangular_solve" in linalg.sentence
    assert ("XLA batches it" in linalg.sentence) != ("does not batch it" in linalg.sentence)
    assert "Measured on 64 pairs" in linalg.detail and "lapack" in linalg.detail.lower()
    # The solve's row permutation is the library's gather, not the user's indexing.
    assert "gather" not in found


def test_float64_promotion_of_float32_inputs_is_found():
    def promoting(params, x, y):
        return jnp.exp(-jnp.sum((x - y) ** 2).astype(jnp.float64))

    assert "float64" in _findings(promoting)
    assert "float64" not in _findings(rbf)
    assert "float64" not in _findings(promoting, dtype="float64")  # asked for: nothing to say


def test_nan_in_K_is_found_with_its_place():
    def log_distance(params, x, y):
        return jnp.log(jnp.sum((x - y) ** 2))

    nan = _findings(log_distance)["nan"]
    assert "40 entries" in nan.sentence and "i = 0, j = 0" in nan.sentence  # the diagonal


def test_sqrt_of_a_zero_distance_has_a_nan_gradient_and_the_safe_form_has_not():
    def sqrt_kernel(params, x, y):
        return jnp.exp(-jnp.sqrt(jnp.sum((x - y) ** 2)))

    def safe_kernel(params, x, y):
        d2 = jnp.sum((x - y) ** 2)
        return jnp.exp(-jnp.where(d2 > 0, jnp.sqrt(jnp.where(d2 > 0, d2, 1.0)), 0.0))

    found = _findings(sqrt_kernel)
    assert "nan" not in found  # K itself is fine
    assert "row 0" in found["nan_grad"].sentence and SAFE_SQRT in found["nan_grad"].sentence
    assert "nan_grad" not in _findings(safe_kernel)


def test_an_asymmetric_matrix_is_found():
    def asymmetric(params, x, y):
        return jnp.exp(-jnp.sum((x - 2 * y) ** 2))

    assert "not_symmetric" in _findings(asymmetric)
    assert "not_symmetric" not in _findings(rbf)


def test_a_negative_eigenvalue_below_roundoff_is_not_positive_semi_definite():
    def negative_distance(params, x, y):
        return -jnp.sum((x - y) ** 2)

    view = compute_view(negative_distance, "neg", _X(), {}, "float32")
    found = {f.kind: f for f in view.findings}
    assert view.min_eigenvalue < -view.roundoff < 0
    assert f"{view.min_eigenvalue:.3g}" in found["not_psd"].sentence
    assert "not_psd" not in _findings(rbf)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_rbf_has_nothing_to_report_but_its_sizes(dtype):
    assert set(_findings(rbf, dtype=dtype)) == {"size"}
