# expect: `raise`
# stage: check
def kernel(params, x, y):
    raise ValueError
    return 1.0
