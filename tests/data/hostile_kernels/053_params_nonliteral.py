# expect: literal name
# stage: check
def kernel(params, x, y):
    i = 0
    return params[i]
