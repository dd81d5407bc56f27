# expect: tabs
# stage: check
def kernel(params, x, y):
        d = x - y
	return np.sum(d)
