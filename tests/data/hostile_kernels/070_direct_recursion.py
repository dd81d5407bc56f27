# expect: 32 deep
# stage: trace
def kernel(params, x, y):
    return kernel(params, x, y)
