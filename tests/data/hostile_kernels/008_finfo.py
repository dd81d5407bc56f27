# expect: np.finfo
# stage: check
def kernel(params, x, y):
    eps = np.finfo(np.float32).eps
    return np.sum(x * y) + eps
