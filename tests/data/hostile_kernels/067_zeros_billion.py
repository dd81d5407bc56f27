# expect: at most 1,000,000
# stage: check
def kernel(params, x, y):
    z = np.zeros(10**9)
    return np.sum(z)
