# expect: double underscores
# stage: check
def kernel(params, x, y):
    d = np.__dict__
    return np.sum(x)
