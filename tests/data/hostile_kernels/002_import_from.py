# expect: `import` is not allowed
# stage: check
from os import system
def kernel(params, x, y):
    return np.sum(x * y)
