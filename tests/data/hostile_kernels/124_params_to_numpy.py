# expect: params cannot be given
# stage: trace
def kernel(params, x, y):
    return np.sum(params)
