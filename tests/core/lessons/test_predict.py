"""Tests of `core.lessons.predict`: the four batched forms, the late-binding trap, per-sample grads."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tests.core.bounds import (
    assert_within,
    tanh_dot_error_bound,
    tanh_loss_grad_error_bound,
    unit_roundoff,
)
from core.lessons.predict import (
    BATCHED_PREDICTS,
    init_params,
    late_binding_demo,
    per_sample_grads,
    per_sample_grads_loop,
    predict,
    squared_loss,
)

N, D = 12, 5


@pytest.fixture
def data(rng):
    params = init_params(D, seed=3)
    X = rng.normal(size=(N, D)).astype(np.float32)
    targets = rng.uniform(-1, 1, size=N).astype(np.float32)
    return params, X, targets


def _reference(params, X):
    w, b = (np.asarray(p, np.float64) for p in params)
    return np.tanh(X.astype(np.float64) @ w + b)


def _own(params, X):
    """Each row's forward-error bound of tanh(w·x + b) in the params' dtype (tests/core/bounds.py)."""
    w, b = params
    return tanh_dot_error_bound(w, b, X, np.asarray(w).dtype)


def _bound(params, X):
    """Against `_reference`: the computation's bound plus the float64 reference's own."""
    w, b = params
    return _own(params, X) + tanh_dot_error_bound(w, b, X, np.float64)


def _grad_bounds(params, X, targets):
    """Bounds on each sample's db and dw (N,), (N, D), in the params' dtype."""
    w, b = params
    db = tanh_loss_grad_error_bound(w, b, X, targets, np.asarray(w).dtype)
    p = _reference(params, X)
    f = np.abs(2 * (p - targets) * (1 - p * p))
    dw = db[:, None] * np.abs(X) + unit_roundoff(np.asarray(w).dtype) * f[:, None] * np.abs(X)
    return db, dw


def test_registry_has_the_four_forms():
    assert len(BATCHED_PREDICTS) == 4
    assert any("vmap" in label and "in_axes" in label for label in BATCHED_PREDICTS)


@pytest.mark.parametrize("label", list(BATCHED_PREDICTS))
def test_batched_forms_match_matrix_form(label, data):
    params, X, _ = data
    out = BATCHED_PREDICTS[label](params, X)
    assert np.shape(out) == (N,)
    assert np.asarray(out).dtype == np.float32
    assert_within(out, _reference(params, X), _bound(params, X), label)


def test_batched_forms_agree_with_each_other(data):
    params, X, _ = data
    outs = {label: np.asarray(f(params, X)) for label, f in BATCHED_PREDICTS.items()}
    first = next(iter(outs.values()))
    for label, out in outs.items():  # each within its bound of the truth
        assert_within(out, first, 2 * _own(params, X), label)


def test_batched_forms_under_jit_and_for_one_row(data):
    params, X, _ = data
    for label in ("vmap(partial(predict, params))", "vmap(predict, in_axes=(None, 0))"):
        f = BATCHED_PREDICTS[label]
        assert_within(jax.jit(f)(params, X), _reference(params, X), _bound(params, X), label)
    for label, f in BATCHED_PREDICTS.items():
        one = f(params, X[:1])
        assert np.shape(one) == (1,), label
        assert_within(np.asarray(one)[0], float(predict(params, X[0])), 2 * _own(params, X[:1])[0], label)


def test_init_params_shapes_and_seed():
    w, b = init_params(D, seed=1)
    assert w.shape == (D,) and jnp.shape(b) == ()
    np.testing.assert_array_equal(np.asarray(init_params(D, seed=1)[0]), np.asarray(w))
    assert not np.array_equal(np.asarray(init_params(D, seed=2)[0]), np.asarray(w))


def test_late_binding_demo(data, rng):
    params, X, _ = data
    new_params = init_params(D, seed=99)
    out = late_binding_demo(params, new_params, X)
    assert set(out) == {"before", "partial_after", "lambda_after", "new_params_reference"}
    for value in out.values():
        assert value.shape == (N,)
    assert_within(out["before"], _reference(params, X), _bound(params, X), "before")
    # partial stored the value it was given: unchanged by the rebinding.
    np.testing.assert_array_equal(out["partial_after"], out["before"])
    # the lambda looked the name up at call time: it now uses the new params.
    assert_within(out["lambda_after"], out["new_params_reference"], 2 * _own(new_params, X), "lambda")
    assert_within(out["new_params_reference"], _reference(new_params, X), _bound(new_params, X), "new")
    assert np.max(np.abs(out["lambda_after"] - out["before"])) > 0.1


def test_per_sample_grads_shapes_and_loop(data):
    params, X, targets = data
    dw, db = jax.jit(per_sample_grads)(params, X, targets)
    assert dw.shape == (N, D)
    assert db.shape == (N,)
    dw_loop, db_loop = per_sample_grads_loop(params, X, targets)
    assert dw_loop.shape == (N, D) and db_loop.shape == (N,)
    # Both within their bound of the exact gradient.
    gb, gw = _grad_bounds(params, X, targets)
    assert_within(dw, dw_loop, 2 * gw, "dw")
    assert_within(db, db_loop, 2 * gb, "db")


def test_per_sample_grads_match_closed_form_and_jacobian(data):
    params, X, targets = data
    dw, db = per_sample_grads(params, X, targets)
    # d/dw (tanh(w·x + b) - t)² = 2 (p - t)(1 - p²) x, and the same without x for b.
    p = _reference(params, X)
    factor = 2 * (p - targets) * (1 - p * p)
    gb, gw = _grad_bounds(params, X, targets)
    w, b = params  # the float64 closed form's own error is far inside float64's bound
    ref_b = tanh_loss_grad_error_bound(w, b, X, targets, np.float64)
    assert_within(db, factor, gb + ref_b, "db")
    assert_within(dw, factor[:, None] * X, gw + 2 * ref_b[:, None] * np.abs(X), "dw")

    # Row i of the Jacobian of the vector of per-sample losses is sample i's gradient.
    def losses(params):
        return jax.vmap(squared_loss, in_axes=(None, 0, 0))(params, X, targets)

    jw, jb = jax.jacrev(losses)(params)
    assert_within(dw, jw, 2 * gw, "jacobian w")
    assert_within(db, jb, 2 * gb, "jacobian b")
    # Summed over samples they are the gradient of the total loss.
    total_w, total_b = jax.grad(lambda p: jnp.sum(losses(p)))(params)
    # Each side: the samples' bounds plus a sum of N terms in any order, (N - 1)·u·Σ|terms|.
    u = unit_roundoff(np.asarray(dw).dtype)
    assert_within(np.asarray(dw).sum(0), total_w,
                  2 * (gw.sum(0) + N * u * np.abs(factor[:, None] * X).sum(0)), "total w")
    assert_within(np.asarray(db).sum(), total_b, 2 * (gb.sum() + N * u * np.abs(factor).sum()), "total b")
