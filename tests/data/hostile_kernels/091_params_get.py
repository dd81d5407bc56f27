# expect: params['name']
# stage: check
def kernel(params, x, y):
    return params.get('gamma') * np.sum(x)
