# expect: double underscores
# stage: check
def kernel(params, x, y):
    c = x.__class__
    return np.sum(x)
