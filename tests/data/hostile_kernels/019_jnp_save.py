# expect: cannot read or write files
# stage: check
def kernel(params, x, y):
    jnp.save('out.npy', x)
    return np.sum(x)
