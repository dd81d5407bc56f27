# expect: lists and tuples
# stage: trace
def kernel(params, x, y):
    t = x.shape * 1000000
    return np.sum(x)
