# expect: `compile` is not available
# stage: check
def kernel(params, x, y):
    c = compile('1', 'f', 'eval')
    return 1.0
