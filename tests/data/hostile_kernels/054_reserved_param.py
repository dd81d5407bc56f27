# expect: taken by the app's sidebar
# stage: check
def kernel(params, x, y):
    return np.sum(x * y) * params['n']
