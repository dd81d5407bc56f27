# expect: top level only
# stage: check
def kernel(params, x, y):
    def inner(a):
        return a
    return np.sum(inner(x))
