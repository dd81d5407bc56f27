# expect: at most 4 parameters
# stage: check
def kernel(params, x, y):
    return params['p1'] + params['p2'] + params['p3'] + params['p4'] + params['p5']
