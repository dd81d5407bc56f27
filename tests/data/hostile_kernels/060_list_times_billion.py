# expect: lists and tuples
# stage: check
def kernel(params, x, y):
    z = [0] * 10 ** 9
    return np.sum(x)
