# expect: `jax.` is not available
# stage: check
def kernel(params, x, y):
    return jax.pure_callback(np.sum, x, x)
