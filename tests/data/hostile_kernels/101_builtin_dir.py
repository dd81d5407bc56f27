# expect: `dir`
# stage: check
def kernel(params, x, y):
    v = dir(x)
    return np.sum(x)
