# expect: `exit`
# stage: check
def kernel(params, x, y):
    v = exit(x)
    return np.sum(x)
