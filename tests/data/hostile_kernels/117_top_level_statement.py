# expect: only `def` is allowed
# stage: check
g = 1.0

def kernel(params, x, y):
    return np.sum(x * y)
