# expect: starred
# stage: check
def kernel(params, x, y):
    return np.maximum(*x)
