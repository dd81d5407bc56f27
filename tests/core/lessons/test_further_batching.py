"""vmap, further, topics 1-4: collectives, control flow, random keys, Jacobians.

Expected values come from NumPy in float64, written out here independently of core.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from core.lessons.further import collectives, control, jacobians, randomness
from core.precision import dtype_scope
from tests.conftest import TOL


def _gram64(X: np.ndarray, gamma: float) -> np.ndarray:
    X = np.asarray(X, np.float64)
    return np.exp(-gamma * ((X[:, None, :] - X[None, :, :]) ** 2).sum(-1))


@pytest.fixture
def X(rng, dtype):
    return rng.normal(size=(60, 3)).astype(dtype)


# --- 1. collectives -------------------------------------------------------------

def test_psum_rows_give_the_normalised_gram_matrix_with_top_eigenvalue_one(X, dtype):
    K = _gram64(X, 0.5)
    d = K.sum(axis=1)
    expected = K / np.sqrt(np.outer(d, d))
    with dtype_scope(dtype):
        got = np.asarray(collectives.batched_rows("psum", jnp.asarray(X), 0.5))
    np.testing.assert_allclose(got, expected, rtol=20 * TOL[dtype], atol=0)
    # D^-1/2 K D^-1/2 has eigenvector D^1/2·1 with eigenvalue 1, the largest (Perron).
    assert np.linalg.eigvalsh(got.astype(np.float64))[-1] == pytest.approx(1.0, abs=1e-4)


def test_pmean_rows_give_the_centred_gram_matrix_whose_rows_sum_to_zero(X, dtype):
    n = len(X)
    H = np.eye(n) - np.ones((n, n)) / n
    expected = H @ _gram64(X, 0.5) @ H
    with dtype_scope(dtype):
        got = np.asarray(collectives.batched_rows("pmean", jnp.asarray(X), 0.5))
    np.testing.assert_allclose(got, expected, atol=20 * TOL[dtype])
    assert np.max(np.abs(got.sum(axis=1))) <= n * 20 * TOL[dtype]


def test_under_vmap_the_psum_is_a_sum_over_the_batch_axis():
    jaxpr = collectives.collective_jaxpr("psum", 7, 2, "float32")
    assert "f32[7,7] = exp" in jaxpr
    assert "psum[axes=(0,)" in jaxpr  # axis 0 of the stacked rows: the batch


def test_axis_size_is_the_batch_and_axis_size_argument_makes_copies(X):
    assert np.all(np.asarray(collectives.axis_size_seen(jnp.asarray(X))) == len(X))
    out = np.asarray(collectives.copies_without_a_mapped_input(jnp.asarray(X[0]), 3))
    assert out.shape == (3, X.shape[1])
    np.testing.assert_allclose(out, np.outer([1, 2, 3], X[0]), rtol=1e-6)


# --- 2. control flow -------------------------------------------------------------

def test_one_point_keeps_cond_but_the_batch_selects_between_both_branches():
    one, many = control.cond_jaxpr(9, 2, "float32")
    assert "cond[" in one and "select_n" not in one
    assert "cond[" not in many and "select_n" in many
    # the costly branch runs on every row: the full (N, N) kernel block is in the program
    assert "f32[9,9] = exp" in many


def test_batched_cond_gives_each_rows_own_branch_and_the_asked_fraction(rng):
    X = rng.normal(size=(40, 2)).astype(np.float32)
    sq = (X.astype(np.float64) ** 2).sum(1)
    threshold = float(np.median(sq))
    got = np.asarray(jax.vmap(control.density_or_norm, in_axes=(0, None, None, None))(
        X, X, 0.5, threshold))
    expected = np.where(sq > threshold, _gram64(X, 0.5).sum(1), sq)
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    rows = control.cond_timings(jnp.asarray(X), 0.5, (0.0, 0.25, 1.0), budget_s=0.01)
    assert [r["costly_rows"] for r in rows] == [0, 10, 40, 40, 0]


def test_batched_while_loop_runs_as_many_trips_as_the_slowest_element_needs():
    a = jnp.asarray([1.0, 4.0, 2.0, 1e6, 1e30], jnp.float32)
    out = control.newton_trips(a)
    alone = [int(control.newton_sqrt(v)[1]) for v in a]
    assert list(out["steps"]) == alone  # each element stops at its own count
    assert out["trips"] == max(alone) > sorted(alone)[-2]
    np.testing.assert_allclose(out["roots"], np.sqrt(np.asarray(a, np.float64)), rtol=1e-6)


# --- 3. random keys -------------------------------------------------------------

def test_one_key_gives_every_row_the_same_noise_and_split_keys_independent_noise(rng):
    X = jnp.zeros((500, 2), jnp.float32)  # zeros: the output is the noise itself
    key = jax.random.key(3)
    one = np.asarray(randomness.noise_one_key(key, X, 0.1))
    assert np.all(one == one[0])
    split = np.asarray(randomness.noise_split_keys(key, X, 0.1))
    keys = jax.random.split(key, 500)
    loop = np.stack([0.1 * np.asarray(jax.random.normal(k, (2,), jnp.float32)) for k in keys])
    np.testing.assert_allclose(split, loop, rtol=1e-6)
    assert len(np.unique(split, axis=0)) == 500
    # std of 1000 normal draws: standard error 0.1/sqrt(2000); 5 of them is generous
    assert abs(split.std() - 0.1) < 5 * 0.1 / np.sqrt(2000)


# --- 4. Jacobians ----------------------------------------------------------------

@pytest.mark.parametrize("n, m", [(3, 7), (7, 3)])
def test_every_way_gives_the_jacobian_of_tanh_wx(n, m):
    W, x = jacobians.problem(n, m, "float32", seed=1)
    t = np.tanh(np.asarray(W, np.float64) @ np.asarray(x, np.float64))
    exact = (1 - t**2)[:, None] * np.asarray(W, np.float64)
    for name, fn in jacobians.JACOBIANS.items():
        got = np.asarray(fn(W, x))
        assert got.shape == (m, n), name
        np.testing.assert_allclose(got, exact, atol=1e-5, err_msg=name)


def test_forward_costs_grow_with_inputs_and_reverse_with_outputs():
    few_in = {k: jacobians.jacobian_flops(k, 4, 256) for k in jacobians.JACOBIANS}
    few_out = {k: jacobians.jacobian_flops(k, 256, 4) for k in jacobians.JACOBIANS}
    # jacfwd is vmap of jvp, jacrev vmap of vjp: the same program, the same count
    assert few_in["vmap of jvp"] == few_in["jax.jacfwd"]
    assert few_in["vmap of vjp"] == few_in["jax.jacrev"]
    assert few_in["vmap of jvp"] * 10 < few_in["vmap of vjp"]  # few inputs: forward wins
    assert few_out["vmap of vjp"] * 10 < few_out["vmap of jvp"]  # few outputs: reverse wins


def test_jacobian_timings_cover_both_ways_at_every_size():
    rows = jacobians.jacobian_timings((2, 4), 3, "m", budget_s=0.01)
    assert [(r["n"], r["m"], r["method"]) for r in rows] == [
        (3, 2, "vmap of jvp"), (3, 2, "vmap of vjp"), (3, 4, "vmap of jvp"), (3, 4, "vmap of vjp")]
    assert all(r["timing"].repeats >= 3 and r["timing"].compile_s > 0 for r in rows)
