"""The page models: what each lesson page computes, in plain JAX/NumPy.

One module a lesson: `predict` (the notes' predict batched four ways), `anatomy`
(in_axes, jaxprs, vv -> mv -> mm), `gradients`, `accuracy` (the precision lab), `gp`
(prior samples and positive-definiteness), `spectrum`, `projection`, `fit` (GP regression:
the log marginal likelihood, its surface, the posterior) with `fit_climb`, `fit_compare`
and `fit_data`, and the sub-package `further` (the vmap, further page: the parts of vmap
the notes never reach). Pages import from the module they draw.
"""
