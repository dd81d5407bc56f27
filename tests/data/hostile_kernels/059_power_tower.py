# expect: 2**53
# stage: check
def kernel(params, x, y):
    n = 2 ** 10 ** 7
    return np.sum(x) * n
