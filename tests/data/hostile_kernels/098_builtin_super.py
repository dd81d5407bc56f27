# expect: `super`
# stage: check
def kernel(params, x, y):
    v = super(x)
    return np.sum(x)
