# expect: double underscores
# stage: check
def kernel(params, x, y):
    g = np.exp.__globals__
    return np.sum(x)
