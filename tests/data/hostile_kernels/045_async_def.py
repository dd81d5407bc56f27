# expect: `async`
# stage: check
async def kernel(params, x, y):
    return np.sum(x * y)
