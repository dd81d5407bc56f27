# expect: at most 1,000,000
# stage: trace
def kernel(params, x, y):
    z = np.zeros((x.shape[0] * 1000000,))
    return np.sum(z)
