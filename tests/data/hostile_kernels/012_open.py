# expect: cannot read or write files
# stage: check
def kernel(params, x, y):
    f = open('/etc/passwd')
    return 1.0
