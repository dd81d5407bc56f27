# expect: empty
# stage: check
