# expect: non-ASCII
# stage: check
def kernel(params, x, y):
    return np.еxp(-np.sum((x - y) ** 2))
