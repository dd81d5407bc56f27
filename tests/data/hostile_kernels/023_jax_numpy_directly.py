# expect: `jax.` is not available
# stage: check
def kernel(params, x, y):
    return jax.numpy.sum(x * y)
