# expect: `memoryview`
# stage: check
def kernel(params, x, y):
    v = memoryview(x)
    return np.sum(x)
