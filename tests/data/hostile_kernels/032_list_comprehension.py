# expect: comprehensions
# stage: check
def kernel(params, x, y):
    return np.sum(np.stack([a * 2 for a in x]))
