"""The block engine: Gram matrices far past memory, planned, computed tile by tile on
every device, and reduced as they go; pooling and synthetic points.
"""

from __future__ import annotations

from core.scale.pooling import (  # noqa: F401
    MAX_POOLED_SIDE,
    pool_edges,
    pool_factor,
    pool_mean,
    pooled_rbf_from_sqdist,
)
from core.scale.quantile_summary import (  # noqa: F401
    QUANTILES_PER_CELL,
    block_quantiles,
    preview_from_quantiles,
    quantile_weights,
)
from core.scale.summary import (  # noqa: F401
    NODES_PER_CELL,
    NUMBERS_PER_CELL,
    CellSummary,
    block_gauss_rules,
    cell_summary,
    decode_rules,
    encode_rules,
    pooled_side,
    preview_from_rules,
)
from core.scale.synthetic import (  # noqa: F401
    MAX_SCALE_FEATURES,
    MAX_SCALE_POINTS,
    SCALE_DATASETS,
    synthetic_points,
)
from core.scale.plan import (  # noqa: F401
    BlockCancelled,
    BlockPlan,
    BlockProgress,
    BlockReductions,
    BlockResult,
    ROW_AXIS,
    default_block_shape,
    plan_blocks,
)
from core.scale.step import (  # noqa: F401
    block_step,
    rbf_tile,
    row_mesh,
    symmetric_tile,
)
from core.scale.run import (  # noqa: F401
    BlockRun,
    run_blocks,
)

__all__ = [
    "BlockCancelled",
    "BlockPlan",
    "BlockProgress",
    "BlockReductions",
    "BlockResult",
    "BlockRun",
    "CellSummary",
    "MAX_POOLED_SIDE",
    "MAX_SCALE_FEATURES",
    "MAX_SCALE_POINTS",
    "NODES_PER_CELL",
    "NUMBERS_PER_CELL",
    "QUANTILES_PER_CELL",
    "ROW_AXIS",
    "SCALE_DATASETS",
    "block_gauss_rules",
    "block_quantiles",
    "block_step",
    "cell_summary",
    "decode_rules",
    "default_block_shape",
    "encode_rules",
    "plan_blocks",
    "pool_edges",
    "pool_factor",
    "pool_mean",
    "pooled_rbf_from_sqdist",
    "pooled_side",
    "preview_from_quantiles",
    "preview_from_rules",
    "quantile_weights",
    "rbf_tile",
    "row_mesh",
    "run_blocks",
    "symmetric_tile",
    "synthetic_points",
]
