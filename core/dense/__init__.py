"""Dense Gram matrices: the registry of batching methods, "auto" (which picks among
them), the fast BLAS/XLA forms, the memory budget every dense path checks, and the
shape buckets that keep compiled programs few.
"""

from __future__ import annotations

from core.dense.memory import (  # noqa: F401
    BLOCK_ENGINE_HINT,
    DENSE_MEMORY_BUDGET_BYTES,
    check_dense_budget,
    dense_gram_bytes,
    format_bytes,
)
from core.dense.buckets import (  # noqa: F401
    BUCKETS_PER_OCTAVE,
    bucket_count,
    bucket_size,
    on_buckets,
    pad_rows,
)
from core.dense.fast import (  # noqa: F401
    MIRROR_MIN_FEATURES,
    PANEL_BYTES,
    THREADED_MIN_ENTRIES,
    TILE_COLS,
    TILE_ROWS,
    panel_rows,
    rbf_gram_panels,
    rbf_gram_tiled,
    rbf_panel,
    worker_count,
)
from core.dense.methods import (  # noqa: F401
    GramMethod,
    METHODS,
    get_method,
    rbf_from_sqdist,
    resolve,
    sqdist_for,
)
# After the registry: registers "auto" in METHODS.
from core.dense.auto import TILED_MIN_ENTRIES, choose_auto  # noqa: F401,E402

__all__ = [
    "BLOCK_ENGINE_HINT",
    "BUCKETS_PER_OCTAVE",
    "DENSE_MEMORY_BUDGET_BYTES",
    "GramMethod",
    "METHODS",
    "MIRROR_MIN_FEATURES",
    "PANEL_BYTES",
    "THREADED_MIN_ENTRIES",
    "TILED_MIN_ENTRIES",
    "TILE_COLS",
    "TILE_ROWS",
    "bucket_count",
    "bucket_size",
    "check_dense_budget",
    "choose_auto",
    "dense_gram_bytes",
    "format_bytes",
    "get_method",
    "on_buckets",
    "pad_rows",
    "panel_rows",
    "rbf_from_sqdist",
    "rbf_gram_panels",
    "rbf_gram_tiled",
    "rbf_panel",
    "resolve",
    "sqdist_for",
    "worker_count",
]
