# expect: `globals` is not available
# stage: check
def kernel(params, x, y):
    g = globals()
    return 1.0
