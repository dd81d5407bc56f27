# expect: TracerBoolConversionError
# stage: trace
def kernel(params, x, y):
    d = np.sum((x - y) ** 2)
    if d < 1.0:
        return 1.0
    return 0.0
