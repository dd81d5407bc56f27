# expect: complex numbers
# stage: check
def kernel(params, x, y):
    z = 1j
    return np.sum(x)
