# expect: no function
# stage: check
"""Only a docstring, no function."""
