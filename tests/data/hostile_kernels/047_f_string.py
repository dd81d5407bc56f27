# expect: f-strings
# stage: check
def kernel(params, x, y):
    s = f"{x}"
    return np.sum(x)
