# expect: np.set_printoptions
# stage: check
def kernel(params, x, y):
    np.set_printoptions(precision=3)
    return np.sum(x)
