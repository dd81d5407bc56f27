# expect: `.astype`
# stage: check
def kernel(params, x, y):
    return np.sum(x.astype(np.float64))
