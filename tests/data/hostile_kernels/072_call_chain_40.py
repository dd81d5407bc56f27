# expect: 32 deep
# stage: trace
def g0(x):
    return g1(x)

def g1(x):
    return g2(x)

def g2(x):
    return g3(x)

def g3(x):
    return g4(x)

def g4(x):
    return g5(x)

def g5(x):
    return g6(x)

def g6(x):
    return g7(x)

def g7(x):
    return g8(x)

def g8(x):
    return g9(x)

def g9(x):
    return g10(x)

def g10(x):
    return g11(x)

def g11(x):
    return g12(x)

def g12(x):
    return g13(x)

def g13(x):
    return g14(x)

def g14(x):
    return g15(x)

def g15(x):
    return g16(x)

def g16(x):
    return g17(x)

def g17(x):
    return g18(x)

def g18(x):
    return g19(x)

def g19(x):
    return g20(x)

def g20(x):
    return g21(x)

def g21(x):
    return g22(x)

def g22(x):
    return g23(x)

def g23(x):
    return g24(x)

def g24(x):
    return g25(x)

def g25(x):
    return g26(x)

def g26(x):
    return g27(x)

def g27(x):
    return g28(x)

def g28(x):
    return g29(x)

def g29(x):
    return g30(x)

def g30(x):
    return g31(x)

def g31(x):
    return g32(x)

def g32(x):
    return g33(x)

def g33(x):
    return g34(x)

def g34(x):
    return g35(x)

def g35(x):
    return g36(x)

def g36(x):
    return g37(x)

def g37(x):
    return g38(x)

def g38(x):
    return g39(x)

def g39(x):
    return g40(x)

def g40(x):
    return x[0]

def kernel(params, x, y):
    return g0(x)
