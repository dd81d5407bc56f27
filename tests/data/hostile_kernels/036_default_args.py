# expect: default values are not allowed
# stage: check
def kernel(params, x, y=1.0):
    return np.sum(x * y)
