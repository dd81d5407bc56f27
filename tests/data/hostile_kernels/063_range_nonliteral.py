# expect: literal integer
# stage: check
def kernel(params, x, y):
    acc = 0.0
    for i in range(x.shape[0]):
        acc += x[i]
    return acc
