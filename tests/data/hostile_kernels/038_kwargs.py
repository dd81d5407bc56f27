# expect: `**kw` is not allowed
# stage: check
def kernel(params, x, y, **kw):
    return np.sum(x * y)
