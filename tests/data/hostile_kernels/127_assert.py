# expect: `assert`
# stage: check
def kernel(params, x, y):
    assert np.sum(x) > 0
    return 1.0
