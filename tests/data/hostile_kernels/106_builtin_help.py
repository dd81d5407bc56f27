# expect: `help`
# stage: check
def kernel(params, x, y):
    v = help(x)
    return np.sum(x)
