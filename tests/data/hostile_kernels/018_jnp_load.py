# expect: cannot read or write files
# stage: check
def kernel(params, x, y):
    w = jnp.load('w.npy')
    return np.sum(w * x)
