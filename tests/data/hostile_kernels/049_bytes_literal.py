# expect: bytes literals
# stage: check
def kernel(params, x, y):
    b = b"abc"
    return np.sum(x)
