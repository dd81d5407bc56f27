# expect: ASCII
# stage: check
def kernel(params, x, y):
    return params['gämma'] * np.sum(x)
