# expect: `eval` is not available
# stage: check
def kernel(params, x, y):
    return eval('1.0')
