# expect: `.at[...]`
# stage: check
def kernel(params, x, y):
    z = x.at[0].set(1.0)
    return np.sum(z * y)
