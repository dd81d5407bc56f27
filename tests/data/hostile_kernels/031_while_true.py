# expect: `while` loops are not allowed
# stage: check
def kernel(params, x, y):
    while True:
        pass
    return 1.0
