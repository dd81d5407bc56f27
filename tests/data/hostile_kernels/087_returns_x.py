# expect: returned an array of shape (3,)
# stage: trace
def kernel(params, x, y):
    return x
