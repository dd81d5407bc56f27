# expect: `id`
# stage: check
def kernel(params, x, y):
    v = id(x)
    return np.sum(x)
