# expect: `try` is not allowed
# stage: check
def kernel(params, x, y):
    try:
        d = np.sum(x)
    except Exception:
        d = 0.0
    return d
