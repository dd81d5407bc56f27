# expect: non-ASCII
# stage: check
def kernel(params, x, y):
    return np.ｅｘｐ(-np.sum((x - y) ** 2))
