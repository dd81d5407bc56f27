# expect: `isinstance`
# stage: check
def kernel(params, x, y):
    v = isinstance(x)
    return np.sum(x)
