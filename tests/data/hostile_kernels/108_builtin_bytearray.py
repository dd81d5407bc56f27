# expect: `bytearray`
# stage: check
def kernel(params, x, y):
    v = bytearray(x)
    return np.sum(x)
