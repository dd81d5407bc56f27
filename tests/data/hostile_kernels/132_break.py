# expect: `break`
# stage: check
def kernel(params, x, y):
    acc = 0.0
    for i in range(3):
        break
    return acc
