# expect: in place
# stage: check
def kernel(params, x, y):
    x[0] = 1.0
    return np.sum(x)
