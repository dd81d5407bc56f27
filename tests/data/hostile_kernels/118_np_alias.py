# expect: must be followed by a function name
# stage: check
def kernel(params, x, y):
    m = np
    return m.exp(x[0])
