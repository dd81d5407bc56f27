"""The in_axes playground flags the silent case: f receives a lower rank than it was written for."""

from __future__ import annotations

import jax
import numpy as np
import pytest

from core.lessons.playground import PLAYGROUND_FUNCTIONS, WRITTEN_FOR, rank_notes, try_vmap


def test_the_issue_case_broadcasts_silently_and_is_flagged():
    # a: (5, 3), b: (3,), in_axes=(1, 0): f gets a (5,) column and a scalar.
    result = try_vmap("sqeuclidean_distances", [(5, 3), (3,)], (1, 0), 0)
    assert result.ok and result.shape == (3,)
    assert result.per_example_in == ((5,), ())
    assert len(result.rank_notes) == 1
    assert "receives b as a scalar" in result.rank_notes[0] and "No error" in result.rank_notes[0]
    # What JAX really computes is the broadcast, NumPy agrees: one number per column j,
    # sum_i (a[i, j] - b[j])², not a distance between two 3-vectors.
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((5, 3)), rng.standard_normal(3)
    fn = PLAYGROUND_FUNCTIONS["sqeuclidean_distances"][1]
    got = np.asarray(jax.vmap(fn, in_axes=(1, 0))(a, b))
    np.testing.assert_allclose(got, np.sum((a - b[None, :]) ** 2, axis=0), rtol=1e-5)


@pytest.mark.parametrize("fn", ["sqeuclidean_distances", "dot", "outer"])
def test_the_vector_forms_used_as_written_have_no_notes(fn):
    for shapes, in_axes in ([[(5, 3), (3,)], (0, None)], [[(5, 3), (5, 3)], (0, 0)],
                            [[(3, 5), (5, 3)], (1, 0)]):
        result = try_vmap(fn, shapes, in_axes, 0)
        assert result.ok and result.rank_notes == (), (fn, shapes, in_axes)


@pytest.mark.parametrize("fn", ["sqeuclidean_distances", "dot", "outer"])
def test_every_vector_form_is_flagged_for_a_scalar(fn):
    result = try_vmap(fn, [(5, 3), (3,)], (1, 0), 0)
    assert result.ok and any("receives b as a scalar" in n for n in result.rank_notes)


def test_add_is_written_for_any_rank_and_higher_ranks_are_named():
    assert WRITTEN_FOR["add"] == (None, None)
    assert try_vmap("add", [(5, 3), (3,)], (1, 0), 0).rank_notes == ()
    notes = rank_notes("dot", [(3, 2), (3,)])
    assert len(notes) == 1 and "receives a as a matrix" in notes[0]


def test_jax_refusals_carry_no_notes():
    result = try_vmap("sqeuclidean_distances", [(5, 3), (3,)], (0, 0), 0)
    assert not result.ok and "inconsistent sizes" in result.error and result.rank_notes == ()
