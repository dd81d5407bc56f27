# expect: `global`
# stage: check
def kernel(params, x, y):
    global g
    return np.sum(x * y)
