# expect: `is` and `in`
# stage: check
def kernel(params, x, y):
    if 1.0 in x:
        return 1.0
    return 0.0
