# expect: at most 1,000
# stage: check
def kernel(params, x, y):
    return lax.fori_loop(0, 100000, lambda i, a: a + 1.0, 0.0)
