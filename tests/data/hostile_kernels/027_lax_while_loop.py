# expect: lax.while_loop
# stage: check
def kernel(params, x, y):
    return lax.while_loop(lambda c: c < 10.0, lambda c: c + 1.0, 0.0)
