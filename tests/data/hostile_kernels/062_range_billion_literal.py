# expect: at most 64
# stage: check
def kernel(params, x, y):
    acc = 0.0
    for i in range(1000000000):
        acc += 1.0
    return acc
