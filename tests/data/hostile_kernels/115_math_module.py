# expect: `math.` is not available
# stage: check
def kernel(params, x, y):
    return math.exp(np.sum(x))
