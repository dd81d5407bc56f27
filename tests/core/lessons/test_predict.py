"""Tests of `core.lessons.predict`: the four batched forms, the late-binding trap, per-sample grads."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

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


def test_registry_has_the_four_forms():
    assert len(BATCHED_PREDICTS) == 4
    assert any("vmap" in label and "in_axes" in label for label in BATCHED_PREDICTS)


@pytest.mark.parametrize("label", list(BATCHED_PREDICTS))
def test_batched_forms_match_matrix_form(label, data):
    params, X, _ = data
    out = BATCHED_PREDICTS[label](params, X)
    assert np.shape(out) == (N,)
    assert np.asarray(out).dtype == np.float32
    np.testing.assert_allclose(np.asarray(out), _reference(params, X), rtol=1e-5, atol=1e-6)


def test_batched_forms_agree_with_each_other(data):
    params, X, _ = data
    outs = {label: np.asarray(f(params, X)) for label, f in BATCHED_PREDICTS.items()}
    first = next(iter(outs.values()))
    for label, out in outs.items():
        np.testing.assert_allclose(out, first, rtol=1e-6, atol=1e-7, err_msg=label)


def test_batched_forms_under_jit_and_for_one_row(data):
    params, X, _ = data
    for label in ("vmap(partial(predict, params))", "vmap(predict, in_axes=(None, 0))"):
        f = BATCHED_PREDICTS[label]
        np.testing.assert_allclose(np.asarray(jax.jit(f)(params, X)), _reference(params, X),
                                   rtol=1e-5, atol=1e-6)
    for label, f in BATCHED_PREDICTS.items():
        one = f(params, X[:1])
        assert np.shape(one) == (1,), label
        np.testing.assert_allclose(np.asarray(one)[0], float(predict(params, X[0])), rtol=1e-6)


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
    np.testing.assert_allclose(out["before"], _reference(params, X), rtol=1e-5, atol=1e-6)
    # partial stored the value it was given: unchanged by the rebinding.
    np.testing.assert_array_equal(out["partial_after"], out["before"])
    # the lambda looked the name up at call time: it now uses the new params.
    np.testing.assert_allclose(out["lambda_after"], out["new_params_reference"], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(out["new_params_reference"], _reference(new_params, X), rtol=1e-5, atol=1e-6)
    assert np.max(np.abs(out["lambda_after"] - out["before"])) > 0.1


def test_per_sample_grads_shapes_and_loop(data):
    params, X, targets = data
    dw, db = jax.jit(per_sample_grads)(params, X, targets)
    assert dw.shape == (N, D)
    assert db.shape == (N,)
    dw_loop, db_loop = per_sample_grads_loop(params, X, targets)
    assert dw_loop.shape == (N, D) and db_loop.shape == (N,)
    np.testing.assert_allclose(np.asarray(dw), np.asarray(dw_loop), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(np.asarray(db), np.asarray(db_loop), rtol=1e-5, atol=1e-7)


def test_per_sample_grads_match_closed_form_and_jacobian(data):
    params, X, targets = data
    dw, db = per_sample_grads(params, X, targets)
    # d/dw (tanh(w·x + b) - t)² = 2 (p - t)(1 - p²) x, and the same without x for b.
    p = _reference(params, X)
    factor = 2 * (p - targets) * (1 - p * p)
    np.testing.assert_allclose(np.asarray(db), factor, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(np.asarray(dw), factor[:, None] * X, rtol=1e-4, atol=1e-6)

    # Row i of the Jacobian of the vector of per-sample losses is sample i's gradient.
    def losses(params):
        return jax.vmap(squared_loss, in_axes=(None, 0, 0))(params, X, targets)

    jw, jb = jax.jacrev(losses)(params)
    np.testing.assert_allclose(np.asarray(dw), np.asarray(jw), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(np.asarray(db), np.asarray(jb), rtol=1e-5, atol=1e-7)
    # Summed over samples they are the gradient of the total loss.
    total_w, total_b = jax.grad(lambda p: jnp.sum(losses(p)))(params)
    np.testing.assert_allclose(np.asarray(dw).sum(0), np.asarray(total_w), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(float(np.asarray(db).sum()), float(total_b), rtol=1e-4, atol=1e-5)
