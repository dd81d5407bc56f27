# expect: for ... else
# stage: check
def kernel(params, x, y):
    acc = 0.0
    for i in range(3):
        acc += x[i]
    else:
        acc = 0.0
    return acc
