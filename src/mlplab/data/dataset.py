"""What every data source returns: a Dataset of arrays and meta, and the builders for the
common cases. X is float32 [n, d]; y is int64 class indices (classification) or float32 values
(regression); meta names the task, the features and the classes or targets."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class Dataset:
    """Arrays in memory, or, for data too big to hold twice, `chunks` of (X, y) rows that the
    store writes straight to disk: then X and y are None and `n_rows` is the total."""

    X: np.ndarray | None
    y: np.ndarray | None
    meta: dict[str, Any] = field(default_factory=dict)
    chunks: Iterable[tuple[np.ndarray, np.ndarray]] | None = None
    n_rows: int | None = None


def feature_names(X: np.ndarray, names: Any = None) -> list[str]:
    """`names` as strings, or x0, x1, ... when the source has none."""
    return [str(n) for n in names] if names is not None else [f"x{i}" for i in range(X.shape[1])]


def classification(X: np.ndarray, y: np.ndarray, class_names: Any, features: Any = None) -> Dataset:
    """Class-index targets; two classes make a binary task (one logit), more a multiclass one.
    `features` are the feature names (None: x0, x1, ...)."""
    return Dataset(
        X=np.ascontiguousarray(X, dtype=np.float32),
        y=np.ascontiguousarray(y, dtype=np.int64),
        meta={
            "task": "binary" if len(class_names) == 2 else "multiclass",
            "class_names": [str(c) for c in class_names],
            "feature_names": feature_names(X, features),
        },
    )


def regression(X: np.ndarray, y: np.ndarray, target: str, features: Any = None) -> Dataset:
    """One float32 regression target named `target`."""
    return Dataset(
        X=np.ascontiguousarray(X, dtype=np.float32),
        y=np.ascontiguousarray(y, dtype=np.float32),
        meta={
            "task": "regression",
            "target_names": [target],
            "feature_names": feature_names(X, features),
        },
    )
