# expect: `getattr` is not available
# stage: check
def kernel(params, x, y):
    f = getattr(x, 'sum')
    return f()
