# expect: exactly 3 parameters
# stage: check
def kernel(x, y):
    return np.sum(x * y)
