"""The XLA compiler options this project's Gram programs are compiled with, in one place.

XLA's CPU backend asks LLVM for 256-bit vectors by default, even on a CPU with
AVX-512. Asking for 512 (`xla_cpu_prefer_vector_width`) lets LLVM vectorize the
fused clip-and-exp pass of K twice as wide: the same bits out (checked for every
compiled method by tests/core/test_compile_options.py), in less time where the
exponentials dominate (benchmarks/compile_options_bench.py; figures in
docs/BENCHMARKS.md, "Compiler options").

The option is a preference: where the CPU has no 512-bit vectors LLVM uses the
widest it has (checked by hand here, with XLA capped at AVX2: the same bits). It is
a CPU option; XLA's GPU compiler does not read `xla_cpu_*` options (not run on a GPU
here). It is given per program, as `jax.jit(fn, compiler_options=COMPILER_OPTIONS)` on the
outermost jit (XLA reads it there only), never process-wide through XLA_FLAGS,
so a user's own programs in the same process compile as they would elsewhere.
Every program timed through `core.bench.timing.time_jitted` gets it (the race, the
vmap anatomy and "further" pages, jit(vmap(grad))), and so does the loop of jit(grad)
it is compared with (`core.lessons.predict`): compiled programs are compared like with like.
"""

from __future__ import annotations

from types import MappingProxyType

__all__ = ["COMPILER_OPTIONS"]

COMPILER_OPTIONS = MappingProxyType({"xla_cpu_prefer_vector_width": 512})
