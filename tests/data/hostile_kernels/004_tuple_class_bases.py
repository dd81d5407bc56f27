# expect: double underscores
# stage: check
def kernel(params, x, y):
    b = ().__class__.__bases__
    return np.sum(x)
