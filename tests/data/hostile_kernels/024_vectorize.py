# expect: np.vectorize
# stage: check
def kernel(params, x, y):
    f = np.vectorize(lambda a: a * 2)
    return np.sum(f(x))
