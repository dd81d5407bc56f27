# expect: 2**53
# stage: trace
def kernel(params, x, y):
    n = x.shape[0]
    m = n ** 100
    return np.sum(x) * m
