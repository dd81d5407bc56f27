# expect: strings are not data
# stage: check
def kernel(params, x, y):
    s = '%s' % x
    return np.sum(x)
