# expect: `allow_pickle=` is not allowed
# stage: check
def kernel(params, x, y):
    return np.sum(x, allow_pickle=True)
