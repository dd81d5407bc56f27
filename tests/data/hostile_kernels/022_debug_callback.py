# expect: `jax.` is not available
# stage: check
def kernel(params, x, y):
    jax.debug.callback(print, x)
    return np.sum(x)
