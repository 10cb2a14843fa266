"""User files as data sources: `csv` and `parquet`, one row per example, one implementation.

The keyword arguments are the `data.source.*` keys (configs/data/csv.yaml documents each). The
work is in tables.py, which (with pandas) is imported only when a file is read, so config
validation, which imports the source registry, stays fast. `split` is the `data.split` node
that prepare passes in: the feature encoding is fitted on the train rows only.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from mlplab.data.dataset import Dataset


def table_file(
    fmt: str,
    *,
    path: str,
    target: str,
    features: list[str] | None,
    drop: list[str] | None,
    task: str,
    missing: str,
    categorical: list[str] | None,
    split: dict[str, Any] | None,
) -> Dataset:
    """A table in format `fmt` ('csv' with a header line, or 'parquet')."""
    from mlplab.data.tables import load_file

    return load_file(fmt, path, target, features, drop, task, missing, categorical, split)


csv_file = partial(table_file, "csv")
parquet_file = partial(table_file, "parquet")
