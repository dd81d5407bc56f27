# expect: params['name']
# stage: check
def kernel(params, x, y):
    k = params.keys()
    return np.sum(x)
