# expect: `vars`
# stage: check
def kernel(params, x, y):
    v = vars(x)
    return np.sum(x)
