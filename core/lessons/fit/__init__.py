"""The Fit page model: a Gaussian process fitted by vmap over hyperparameters and grad.

`model` (the GP with the RBF kernel: covariance, log marginal likelihood, posterior,
the surface over (gamma, noise) by nested vmap, held-out densities by vmap), `climb`
(Adam on the log marginal likelihood, grad through the Cholesky), `compare` (what the
page computes and times: the surface against the loop, the fit beside kernel ridge
regression, held-out densities by vmap and by loop). Its data with a target lives in
`core.data.regression`.
"""

from __future__ import annotations

from core.lessons.fit.climb import GRAD_TOL, ClimbStep, climb, negative_lml  # noqa: F401
from core.lessons.fit.compare import (  # noqa: F401
    GAMMA_RANGE,
    NOISE_RANGE,
    FitCurve,
    HeldOut,
    Surface,
    SurfaceTiming,
    compute_surface,
    fit_curve,
    held_out,
    surface_axes,
    time_surface,
)
from core.lessons.fit.model import (  # noqa: F401
    GPPosterior,
    factor_K,
    gp_log_marginal_likelihood,
    gp_posterior,
    kernel_ridge_mean,
    lml_surface,
    lml_surface_loop,
    log_density_of_points,
    log_density_of_points_loop,
    predictive_log_density,
    predictive_log_density_loop,
    rbf_covariance,
)
