# expect: literal integers
# stage: check
def kernel(params, x, y):
    n = np.sum(x)
    return lax.fori_loop(0, n, lambda i, a: a + 1.0, 0.0)
