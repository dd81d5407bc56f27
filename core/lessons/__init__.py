"""The page models: what each lesson page computes, in plain JAX/NumPy.

One module a lesson: `predict` (the notes' predict batched four ways), `anatomy`
(in_axes, jaxprs, vv -> mv -> mm), `gradients`, `accuracy` (the precision lab), `gp`
(prior samples and positive-definiteness), `spectrum`, `projection`, and the sub-packages `fit` (GP regression:
the log marginal likelihood, its surface, the posterior, the climb; its data in
`core.data.regression`) and `further` (the vmap, further page: the parts of vmap
the notes never reach). Pages import from the module they draw.
"""
