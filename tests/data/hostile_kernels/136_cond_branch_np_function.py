# expect: lambdas or your own functions
# stage: check
def kernel(params, x, y):
    return lax.cond(x[0] < 1.0, np.exp, np.log, x[0])
