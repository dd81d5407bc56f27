# expect: a module
# stage: check
def kernel(params, x, y):
    m = np.linalg
    return 1.0
