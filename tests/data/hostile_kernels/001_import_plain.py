# expect: `import` is not allowed
# stage: check
def kernel(params, x, y):
    import os
    return np.sum(x * y)
