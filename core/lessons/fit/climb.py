"""The climb: gradient ascent on the log marginal likelihood, by jax.grad through a Cholesky.

The parameters are θ = (log gamma, log noise, log amplitude): on a log scale every
step keeps them positive, and one learning rate suits values that span decades.
`jax.value_and_grad` differentiates the LML through `jnp.linalg.cholesky` and the
triangular solve; optax's Adam takes the steps. `climb` yields every step, so a
caller can draw the path as it grows and stop whenever it likes.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Iterator

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.typing import ArrayLike

from core.lessons.fit.model import _lml, not_positive_definite_error

__all__ = ["ClimbStep", "negative_lml", "climb", "GRAD_TOL"]

GRAD_TOL = 1e-3  # |∇θ LML| below this: at a stationary point, to the precision that matters


def negative_lml(theta: jax.Array, X: jax.Array, y: jax.Array) -> jax.Array:
    """−LML at θ = (log gamma, log noise, log amplitude), shape (3,): what Adam minimises."""
    gamma, noise, amplitude = jnp.exp(theta)
    return -_lml(X, y, gamma, noise, amplitude)


@dataclasses.dataclass(frozen=True)
class ClimbStep:
    """One point of the climb.

    Attributes:
      step: 0 for the start, then 1, 2, ...
      gamma, noise, amplitude: the hyperparameters at this step.
      lml: the log marginal likelihood there.
      grad_norm: |∇θ LML| there (θ the logs of the three).
    """

    step: int
    gamma: float
    noise: float
    amplitude: float
    lml: float
    grad_norm: float


@functools.lru_cache(maxsize=8)
def _stepper(learning_rate: float):
    """A jitted Adam step for this learning rate (compiled once per rate and shape)."""
    optimizer = optax.adam(learning_rate)

    @jax.jit
    def step(theta, opt_state, X, y):
        loss, grad = jax.value_and_grad(negative_lml)(theta, X, y)
        updates, opt_state = optimizer.update(grad, opt_state, theta)
        return optax.apply_updates(theta, updates), opt_state, -loss, jnp.linalg.norm(grad)

    return optimizer, step


def climb(X: ArrayLike, y: ArrayLike, gamma: float, noise: float, amplitude: float = 1.0,
          steps: int = 100, learning_rate: float = 0.05,
          grad_tol: float = GRAD_TOL) -> Iterator[ClimbStep]:
    """Gradient ascent on the LML from (gamma, noise, amplitude), one `ClimbStep` at a time.

    Args:
      X: shape (N, D). y: shape (N,). Their dtype is the compute dtype (float64
        needs x64 on, as for `gp_log_marginal_likelihood`).
      gamma, noise, amplitude: the start, all > 0.
      steps: most Adam steps taken.
      learning_rate: Adam's step size in log space (0.05: about 5% per step).
      grad_tol: stop once |∇θ LML| falls below it.

    Yields:
      the start (step 0), then each step's new point; the last either hit `steps`
      or has grad_norm < grad_tol.

    Raises:
      CholeskyError: K stopped being positive definite on the way (the noise fell
        below what the working precision can factor); the points so far were yielded.
    """
    X, y = jnp.asarray(X), jnp.asarray(y)
    optimizer, step = _stepper(float(learning_rate))
    theta = jnp.log(jnp.asarray([gamma, noise, amplitude], dtype=X.dtype))
    opt_state = optimizer.init(theta)
    for i in range(steps + 1):
        new_theta, new_state, lml, grad_norm = step(theta, opt_state, X, y)
        g, s, a = (float(v) for v in np.exp(np.asarray(theta, dtype=np.float64)))
        if not (np.isfinite(float(lml)) and np.isfinite(float(grad_norm))):
            raise not_positive_definite_error(np.asarray(X), g, s, a)
        yield ClimbStep(i, g, s, a, float(lml), float(grad_norm))
        if float(grad_norm) < grad_tol or i == steps:
            return
        theta, opt_state = new_theta, new_state
