# expect: `type`
# stage: check
def kernel(params, x, y):
    v = type(x)
    return np.sum(x)
