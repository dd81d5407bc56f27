# expect: generator expressions
# stage: check
def kernel(params, x, y):
    return np.sum(np.stack((a for a in x)))
