"""The notes' first example: a vector-form model, batched four ways, and its gradients.

`predict(params, x) = tanh(w·x + b)` is written for one D-vector x. Batching it
over the rows of an (N, D) matrix is what `vmap` automates; the other three forms
are what people write without it. The functions' own source is what the app
shows, so each form is one short function.
"""

from __future__ import annotations

from functools import partial
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from core.compile_options import COMPILER_OPTIONS

__all__ = [
    "init_params",
    "predict",
    "predict_loop",
    "predict_map_stack",
    "predict_vmap_partial",
    "predict_vmap_in_axes",
    "BATCHED_PREDICTS",
    "late_binding_demo",
    "squared_loss",
    "per_sample_grads",
    "per_sample_grads_loop",
    "per_sample_grads_loop_jit",
]

Params = tuple[jax.Array, jax.Array]


def init_params(d: int, seed: int = 0, dtype=np.float32) -> Params:
    """Random `(w, b)` for `predict`: w shape (D,), b a 0-d array, both of `dtype`.

    NumPy arrays, converted by each computation inside its own `dtype_scope`: a
    `jnp.asarray` here would make float64 parameters float32 wherever x64 is off.
    """
    rng = np.random.default_rng(seed)
    return rng.normal(size=d).astype(dtype), np.asarray(rng.normal(), dtype=dtype)


def predict(params: Params, input_vector: ArrayLike) -> jax.Array:
    """The vector form: `tanh(w·x + b)` for one x of shape (D,); scalar."""
    w, b = params
    output_vec = jnp.dot(w, input_vector) + b
    return jnp.tanh(output_vec)


def predict_loop(params: Params, input_batch: ArrayLike) -> jax.Array:
    """A Python loop over the rows; (N, D) -> (N,)."""
    return jnp.stack([predict(params, x) for x in input_batch])


def predict_map_stack(params: Params, input_batch: ArrayLike) -> jax.Array:
    """The notes' functional form: `np.stack(list(map(partial(predict, params), X)))`."""
    return np.stack(list(map(partial(predict, params), input_batch)))


def predict_vmap_partial(params: Params, input_batch: ArrayLike) -> jax.Array:
    """`vmap(partial(predict, params))`: fix params, batch the remaining argument."""
    predict_batch_f = jax.vmap(partial(predict, params))
    return predict_batch_f(input_batch)


def predict_vmap_in_axes(params: Params, input_batch: ArrayLike) -> jax.Array:
    """`vmap(predict, in_axes=(None, 0))`: params shared, axis 0 of the batch mapped."""
    predict_batch_f = jax.vmap(predict, in_axes=(None, 0))
    return predict_batch_f(params, input_batch)


BATCHED_PREDICTS: dict[str, Callable[[Params, ArrayLike], ArrayLike]] = {
    "Python loop": predict_loop,
    "map + partial + np.stack": predict_map_stack,
    "vmap(partial(predict, params))": predict_vmap_partial,
    "vmap(predict, in_axes=(None, 0))": predict_vmap_in_axes,
}


def late_binding_demo(params: Params, new_params: Params, input_batch: ArrayLike) -> dict[str, np.ndarray]:
    """The `partial` versus `lambda` trap, run for real.

    Both batched functions are built while `params` holds the first value; then
    the name is rebound to `new_params`. `partial` stored the value it was given;
    the lambda looks the name up when it is *called*, so it silently uses the new
    parameters.

    Returns:
      Arrays of shape (N,): "before" (both agree), "partial_after" (still the old
      params), "lambda_after" (now the new params), "new_params_reference".
    """
    predict_p = jax.vmap(partial(predict, params))
    predict_l = jax.vmap(lambda x: predict(params, x))
    before = np.asarray(predict_p(input_batch))
    assert np.allclose(before, predict_l(input_batch))
    params = new_params  # noqa: F841 -- the rebinding the lambda will see
    return {
        "before": before,
        "partial_after": np.asarray(predict_p(input_batch)),
        "lambda_after": np.asarray(predict_l(input_batch)),
        "new_params_reference": np.asarray(predict_vmap_in_axes(new_params, input_batch)),
    }


def squared_loss(params: Params, x: ArrayLike, target: ArrayLike) -> jax.Array:
    """`(predict(params, x) - target) ** 2` for one sample; scalar, so `grad` applies."""
    return (predict(params, x) - target) ** 2


def per_sample_grads(params: Params, X: ArrayLike, targets: ArrayLike) -> Params:
    """`vmap(grad(loss), in_axes=(None, 0, 0))`: one gradient per sample, no loop.

    Args:
      params: `(w, b)`, w shape (D,).
      X: shape (N, D).
      targets: shape (N,).

    Returns:
      `(dw, db)` with dw shape (N, D) and db shape (N,).
    """
    return jax.vmap(jax.grad(squared_loss), in_axes=(None, 0, 0))(params, X, targets)


def per_sample_grads_loop(params: Params, X: ArrayLike, targets: ArrayLike) -> Params:
    """The loop of `grad` that `per_sample_grads` replaces; same shapes."""
    grad_loss = jax.grad(squared_loss)
    grads = [grad_loss(params, x, t) for x, t in zip(X, targets)]
    return jnp.stack([g[0] for g in grads]), jnp.stack([g[1] for g in grads])


# Compiled with the options time_jitted gives jit(vmap(grad)), its partner on the Gradients
# page, so that the two differ only in N calls against one.
_grad_loss_jit = jax.jit(jax.grad(squared_loss), compiler_options=COMPILER_OPTIONS)


def per_sample_grads_loop_jit(params: Params, X: ArrayLike, targets: ArrayLike) -> Params:
    """A loop of `jit(grad(loss))`: compiled once for one sample, called once per row.

    The fair partner of `jit(vmap(grad(loss)))`: both are compiled, so what is left
    between them is N calls from Python against one.
    """
    grads = [_grad_loss_jit(params, x, t) for x, t in zip(X, targets)]
    return jnp.stack([g[0] for g in grads]), jnp.stack([g[1] for g in grads])
