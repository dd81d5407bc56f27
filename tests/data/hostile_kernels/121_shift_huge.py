# expect: `<<`
# stage: check
def kernel(params, x, y):
    n = 1 << 100
    return np.sum(x) * n
