# expect: default values
# stage: check
def kernel(params, x, y):
    return lax.cond(True, lambda a=1.0: a, lambda a: a, 1.0)
