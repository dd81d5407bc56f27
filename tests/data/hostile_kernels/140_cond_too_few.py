# expect: at least 3
# stage: check
def kernel(params, x, y):
    return lax.cond(True, lambda: 1.0)
