# expect: `quit`
# stage: check
def kernel(params, x, y):
    v = quit(x)
    return np.sum(x)
