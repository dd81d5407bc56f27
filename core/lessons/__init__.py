"""The page models: what each lesson page computes, in plain JAX/NumPy.

One module a lesson: `predict` (the notes' predict batched four ways), `anatomy`
(in_axes, jaxprs, vv -> mv -> mm), `gradients`, `accuracy` (the precision lab), `gp`
(prior samples and positive-definiteness), `spectrum`, `projection`, `fit` (GP regression:
the log marginal likelihood, its surface, the posterior) with `fit_climb` and `fit_data`. Pages import
from the module they draw.
"""
