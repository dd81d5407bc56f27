# expect: walrus
# stage: check
def kernel(params, x, y):
    if (d := np.sum(x)) > 0:
        return d
    return 0.0
