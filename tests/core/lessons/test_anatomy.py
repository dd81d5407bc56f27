"""Tests of `core.lessons.anatomy`: the in_axes playground, the shape ladder, jaxprs, predict forms, vv → mm."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from core.lessons.anatomy import (
    JITTABLE_FORMS,
    PLAYGROUND_FUNCTIONS,
    agreement_tolerance,
    compare_predict_forms,
    jaxpr_pair,
    matmul_ladder,
    matmul_source,
    parse_shape,
    try_vmap,
    vmap_ladder,
)
from core.kernels.gram import vmap_matmul
from core.precision import dtype_scope
from core.lessons.predict import BATCHED_PREDICTS, init_params


@pytest.mark.parametrize("text, shape", [
    ("5, 3", (5, 3)), ("(5, 3)", (5, 3)), ("5x3", (5, 3)), (" 5 3 ", (5, 3)), ("[7]", (7,)),
    ("", ()), ("()", ()),
])
def test_parse_shape_reads_what_people_type(text, shape):
    assert parse_shape(text) == shape


@pytest.mark.parametrize("text, words", [
    ("five", "not a shape"), ("5, -3", "not a shape"), ("2.5", "not a shape"),
    ("0, 3", "from 1"), ("1,1,1,1,1", "at most"),
])
def test_parse_shape_refuses_with_a_reason(text, words):
    with pytest.raises(ValueError, match=words):
        parse_shape(text)


VALID = [
    # fn, shapes, in_axes, out_axes, expected output shape, what f sees
    ("sqeuclidean_distances", [(5, 3), (3,)], (0, None), 0, (5,), ((3,), (3,))),
    ("sqeuclidean_distances", [(3, 5), (4, 3)], (1, None), 0, (5,), ((3,), (4, 3))),
    ("dot", [(5, 3), (3, 5)], (0, 1), 0, (5,), ((3,), (3,))),
    ("outer", [(5, 3), (4,)], (0, None), 1, (3, 5, 4), ((3,), (4,))),
    ("add", [(5, 3), (5, 3)], (0, 0), 1, (3, 5), ((3,), (3,))),
]


@pytest.mark.parametrize("fn, shapes, in_axes, out_axes, expected, seen", VALID)
def test_try_vmap_valid_choices_give_the_shape_jax_computes(fn, shapes, in_axes, out_axes,
                                                            expected, seen):
    result = try_vmap(fn, shapes, in_axes, out_axes)
    assert result.ok and result.error is None
    assert result.shape == expected
    assert result.per_example_in == seen
    assert result.batch_size == 5
    # The traced shape is the shape of the real thing.
    rng = np.random.default_rng(0)
    a, b = (rng.normal(size=s).astype(np.float32) for s in shapes)
    real = jax.vmap(PLAYGROUND_FUNCTIONS[fn][1], in_axes=in_axes, out_axes=out_axes)(a, b)
    assert real.shape == expected
    assert f"in_axes=({in_axes[0]}, {in_axes[1]}), out_axes={out_axes}" in result.code


INVALID = [
    ("sqeuclidean_distances", [(5, 3), (4, 3)], (0, 0), 0, "inconsistent sizes"),
    ("sqeuclidean_distances", [(5, 3), (3,)], (None, None), 0, "at least one non-None"),
    ("sqeuclidean_distances", [(5,), (3,)], (1, None), 0, "rank"),
    ("sqeuclidean_distances", [(5, 3), (3,)], (0, None), 1, "out of bounds"),
    ("dot", [(5, 3), (4,)], (0, None), 0, "contracting dimensions"),
]


@pytest.mark.parametrize("fn, shapes, in_axes, out_axes, words", INVALID)
def test_try_vmap_invalid_choices_return_jax_message_without_raising(fn, shapes, in_axes,
                                                                     out_axes, words):
    result = try_vmap(fn, shapes, in_axes, out_axes)
    assert not result.ok
    assert result.shape is None and result.per_example_in is None
    assert words in result.error
    with pytest.raises((ValueError, TypeError)) as err:  # and it is JAX's own message
        jax.eval_shape(jax.vmap(PLAYGROUND_FUNCTIONS[fn][1], in_axes=in_axes, out_axes=out_axes),
                       *(jax.ShapeDtypeStruct(s, jnp.float32) for s in shapes))
    assert str(err.value) == result.error


def test_vmap_ladder_shapes_on_the_data():
    X = np.random.default_rng(1).normal(size=(7, 3)).astype(np.float32)
    steps = vmap_ladder(X, init_params(3, seed=0))
    assert [s.shape for s in steps] == [(), (7,), (), (7,), (7, 7)]
    assert [s.computed for s in steps] == [True, True, True, True, False]
    assert steps[1].inputs == "X: (7, 3)"


def test_jaxpr_pair_shows_the_batch_axis(dtype):
    n, d = 11, 4
    with dtype_scope(dtype):
        for name in ("predict", "rbf"):
            plain, batched = jaxpr_pair(name, n, d, dtype)
            short = "f32" if dtype == "float32" else "f64"
            assert f"{short}[{d}]" in plain and f"[{n},{d}]" not in plain
            assert f"{short}[{n},{d}]" in batched


def test_jaxpr_of_the_gram_is_n_by_n():
    _, batched = jaxpr_pair("rbf", 6, 2)
    assert "f32[6,6] = exp" in batched


def test_predict_forms_agree_and_are_timed():
    X = np.random.default_rng(2).normal(size=(9, 4)).astype(np.float32)
    params = init_params(4, seed=1)
    seen = []
    forms = compare_predict_forms(params, X, budget_s=0.05, on_progress=lambda f, _: seen.append(f))
    assert [f.label for f in forms] == list(BATCHED_PREDICTS)
    assert all(f.agrees for f in forms), [(f.label, f.max_abs_diff) for f in forms]
    assert all(f.output.shape == (9,) for f in forms)
    assert {f.label for f in forms if f.jitted is not None} == set(JITTABLE_FORMS)
    assert all(f.jitted.compile_s > 0 for f in forms if f.jitted)
    # Timed together, round by round: every timing pairs with every other.
    timings = [f.eager for f in forms] + [f.jitted for f in forms if f.jitted]
    assert len({(t.run_id, t.repeats) for t in timings}) == 1 and timings[0].repeats >= 5
    assert seen[0] == 0.0 and seen[-1] == 1.0 and seen == sorted(seen)


def test_agreement_tolerance_covers_large_float32_sums():
    # Digits-like data: 64 features up to 16 and w·x far from 0 for some rows. The forms
    # sum in different orders; a tolerance of a few ε alone would fail them.
    rng = np.random.default_rng(3)
    X = rng.integers(0, 17, size=(300, 64)).astype(np.float32)
    params = init_params(64, seed=0)
    w, b = params
    X = X / np.abs(X @ np.asarray(w)).max() * 3  # pre-activations up to 3: tanh not flat
    outs = [np.asarray(f(params, X)) for f in BATCHED_PREDICTS.values()]
    tol = agreement_tolerance(params, X)
    assert tol < 1e-4  # still a check: a wrong form differs by O(0.1)
    for out in outs:
        assert np.max(np.abs(out - outs[-1])) <= tol


def test_matmul_ladder_matches_matmul(dtype, tol):
    rng = np.random.default_rng(4)
    A = rng.normal(size=(6, 3)).astype(dtype)
    B = rng.normal(size=(3, 5)).astype(dtype)
    with dtype_scope(dtype):
        stages = matmul_ladder(A, B)
    assert [s.shape for s in stages] == [(), (6,), (6, 5), (6, 5)]
    assert all(s.max_abs_diff <= 10 * tol for s in stages)
    assert stages[2].inputs == "(6, 3) · (3, 5)"


def test_matmul_source_is_the_code_that_runs():
    source = matmul_source()
    assert "mv = jax.vmap(vv, (0, None), 0)" in source
    assert "mm = jax.vmap(mv, (None, 1), 1)" in source
    assert source.rstrip().endswith("return mm(A, B)")
    namespace = {"jax": jax, "jnp": jnp, "ArrayLike": object}
    exec(compile(source, "<matmul_source>", "exec"), namespace)  # noqa: S102 - our own source
    A = np.arange(6.0, dtype=np.float32).reshape(2, 3)
    np.testing.assert_allclose(namespace["vmap_matmul"](A, A.T), np.asarray(vmap_matmul(A, A.T)))


def test_vmap_adds_no_loop_to_the_program():
    # The anatomy page: "vmap does not add a loop: it rewrites each operation to carry a
    # batch axis". The batched jaxprs hold no loop primitive and the same operations.
    import re

    for name in ("predict", "rbf"):
        plain, batched = jaxpr_pair(name, 50, 3)
        assert not re.search(r"\b(while|scan|fori_loop)\b", batched), name
        ops = lambda text: sorted(set(re.findall(r"= ([a-z_]+)\[?", text)))  # noqa: E731
        assert set(ops(plain)) <= set(ops(batched)) | {"dot_general"}, (ops(plain), ops(batched))
