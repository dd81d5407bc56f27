# expect: 10,000 steps
# stage: trace
def kernel(params, x, y):
    acc = 0.0
    for i in range(64):
        for j in range(64):
            for k in range(64):
                acc = acc + 1.0
    return acc * np.sum(x)
