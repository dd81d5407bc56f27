# expect: lax.scan
# stage: check
def kernel(params, x, y):
    c, ys = lax.scan(lambda c, a: (c + a, a), 0.0, x)
    return c
