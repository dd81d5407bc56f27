# expect: `exec` is not available
# stage: check
def kernel(params, x, y):
    exec('import os')
    return 1.0
