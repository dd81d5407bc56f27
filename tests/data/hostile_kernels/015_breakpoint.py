# expect: `breakpoint` is not available
# stage: check
def kernel(params, x, y):
    breakpoint()
    return 1.0
