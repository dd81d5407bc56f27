"""Process setup read before JAX starts (the CPU devices XLA splits the host into).

Imports neither JAX nor Streamlit nor the project's other packages, so app.py and
the benchmarks can call it first (tests/test_architecture.py holds it to that).
"""
