# expect: `numpy.` is not available
# stage: check
def kernel(params, x, y):
    return numpy.sum(x)
