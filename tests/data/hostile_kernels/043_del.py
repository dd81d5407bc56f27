# expect: `del` is not allowed
# stage: check
def kernel(params, x, y):
    del x
    return 1.0
