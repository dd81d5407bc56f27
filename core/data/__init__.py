"""Data: the built-in datasets (shipped with scikit-learn), the Fit page's sets with a
target (regression), and validated uploads.
"""

from __future__ import annotations

from core.data.datasets import (  # noqa: F401
    DATASETS,
    DatasetSpec,
    MAX_POINTS,
    load_dataset,
)
from core.data.regression import (  # noqa: F401
    REGRESSION_SETS,
    RegressionData,
    RegressionSet,
    load_regression,
    regression_from_table,
)
from core.data.uploads import (  # noqa: F401
    MAX_TABLE_BYTES,
    MAX_TABLE_COLS,
    MAX_TABLE_ROWS,
    SUPPORTED_TABLE_EXTENSIONS,
    TableSource,
    describe_table_warnings,
    load_table,
)

__all__ = [
    "DATASETS",
    "DatasetSpec",
    "MAX_POINTS",
    "MAX_TABLE_BYTES",
    "MAX_TABLE_COLS",
    "MAX_TABLE_ROWS",
    "REGRESSION_SETS",
    "RegressionData",
    "RegressionSet",
    "SUPPORTED_TABLE_EXTENSIONS",
    "TableSource",
    "describe_table_warnings",
    "load_dataset",
    "load_regression",
    "load_table",
    "regression_from_table",
]
