# expect: lax.map
# stage: check
def kernel(params, x, y):
    return np.sum(lax.map(np.exp, x))
