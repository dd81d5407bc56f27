# expect: there is no input
# stage: check
def kernel(params, x, y):
    v = input()
    return 1.0
