# expect: 32 deep
# stage: trace
def f(x):
    return lax.cond(x[0] < 0.0, lambda: f(x), lambda: x[0])

def kernel(params, x, y):
    return f(x)
