# expect: `locals`
# stage: check
def kernel(params, x, y):
    v = locals(x)
    return np.sum(x)
