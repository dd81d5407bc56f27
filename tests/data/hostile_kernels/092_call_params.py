# expect: `params` is not a function
# stage: check
def kernel(params, x, y):
    return params()
