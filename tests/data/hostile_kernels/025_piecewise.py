# expect: np.piecewise
# stage: check
def kernel(params, x, y):
    return np.sum(np.piecewise(x, [x < 0], [0.0, 1.0]))
