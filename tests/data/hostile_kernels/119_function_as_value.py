# expect: can only be called
# stage: check
def kernel(params, x, y):
    f = np.exp
    return np.sum(f(x))
