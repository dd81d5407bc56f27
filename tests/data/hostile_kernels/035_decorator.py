# expect: decorators are not allowed
# stage: check
@jax.jit
def kernel(params, x, y):
    return np.sum(x * y)
