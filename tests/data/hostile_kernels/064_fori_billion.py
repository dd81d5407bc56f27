# expect: literal integers
# stage: check
def kernel(params, x, y):
    return lax.fori_loop(0, 10**9, lambda i, a: a + 1.0, 0.0)
