"""User files as data sources: `csv` and `parquet`, one row per example, one implementation.

The keyword arguments are the `data.source.*` keys (configs/data/csv.yaml documents each). The
work is in tables.py, which (with pandas) is imported only when a file is read, so config
validation, which imports the source registry, stays fast. `split` is the `data.split` node
that prepare passes in: the feature encoding is fitted on the train rows only. Only `csv` takes
an `encoding`: a Parquet file records its own.
"""

from __future__ import annotations

from typing import Any

from mlplab.data.dataset import Dataset


def csv_file(
    *,
    path: str,
    target: str,
    features: list[str] | None,
    drop: list[str] | None,
    task: str,
    missing: str,
    categorical: list[str] | None,
    encoding: str,
    split: dict[str, Any] | None,
) -> Dataset:
    """A CSV file with a header line, in text encoding `encoding` (utf-8, latin-1, ...)."""
    from mlplab.data.tables import load_file

    return load_file(
        "csv", path, target, features, drop, task, missing, categorical, split, encoding
    )


def parquet_file(
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
    """A Parquet file (it records its own text encoding, so it takes none)."""
    from mlplab.data.tables import load_file

    return load_file(
        "parquet", path, target, features, drop, task, missing, categorical, split, None
    )
