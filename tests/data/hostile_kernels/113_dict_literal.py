# expect: dicts are not allowed
# stage: check
def kernel(params, x, y):
    d = {'a': 1.0}
    return np.sum(x)
