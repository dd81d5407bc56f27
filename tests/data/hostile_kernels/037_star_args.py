# expect: `*args` is not allowed
# stage: check
def kernel(params, *args):
    return np.sum(args[0])
