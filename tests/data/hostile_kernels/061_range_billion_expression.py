# expect: literal integer
# stage: check
def kernel(params, x, y):
    acc = 0.0
    for i in range(10**9):
        acc += 1.0
    return acc
