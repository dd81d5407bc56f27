# expect: `setattr`
# stage: check
def kernel(params, x, y):
    v = setattr(x)
    return np.sum(x)
