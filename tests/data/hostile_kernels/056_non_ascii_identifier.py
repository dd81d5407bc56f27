# expect: non-ASCII
# stage: check
def kernel(params, x, y):
    dé = x - y
    return np.sum(dé)
