# expect: `yield`
# stage: check
def kernel(params, x, y):
    yield x
    return 1.0
