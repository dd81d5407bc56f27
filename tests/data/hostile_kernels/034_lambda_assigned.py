# expect: `lambda` is only allowed
# stage: check
def kernel(params, x, y):
    f = lambda a: a * 2
    return np.sum(f(x))
