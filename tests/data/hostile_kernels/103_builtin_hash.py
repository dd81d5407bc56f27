# expect: `hash`
# stage: check
def kernel(params, x, y):
    v = hash(x)
    return np.sum(x)
