# expect: `__import__` is not available
# stage: check
def kernel(params, x, y):
    os = __import__('os')
    return np.sum(x)
