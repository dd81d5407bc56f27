# expect: `object`
# stage: check
def kernel(params, x, y):
    v = object(x)
    return np.sum(x)
