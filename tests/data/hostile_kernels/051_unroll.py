# expect: `unroll=` is not allowed
# stage: check
def kernel(params, x, y):
    return lax.fori_loop(0, 3, lambda i, a: a + x[i], 0.0, unroll=2)
