# expect: at most 1,000,000
# stage: check
def kernel(params, x, y):
    z = np.eye(100000)
    return np.sum(z)
