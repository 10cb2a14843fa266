"""A table's target column: which task it is, and the y array the model trains on.

Class names are sorted (numbers numerically, text by code point), so one file always gives
the same class indices, and the names travel in meta.json and the checkpoint.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mlplab.errors import DataError

TASK_CHOICES = ("auto", "binary", "multiclass", "regression")
MAX_AUTO_CLASSES = 20  # `task: auto` takes a whole-number target with at most this many values


def is_numeric(series: pd.Series) -> bool:
    """Numbers, not text and not bool (a bool target is two named classes)."""
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def _whole_numbers(series: pd.Series) -> bool:
    values = series.to_numpy(dtype=np.float64)
    return bool(np.all(np.isfinite(values) & (values == np.round(values))))


def infer_task(series: pd.Series) -> str:
    """`task: auto`. Text and bool targets, and whole numbers with at most MAX_AUTO_CLASSES
    distinct values, are classes (binary when there are two); other numbers are regression."""
    classes = not is_numeric(series) or (
        _whole_numbers(series) and series.nunique() <= MAX_AUTO_CLASSES
    )
    if not classes:
        return "regression"
    return "binary" if series.nunique() == 2 else "multiclass"


def encode_target(series: pd.Series, task: str, source: str) -> tuple[np.ndarray, str, dict]:
    """(y, task, meta entries): int64 indices into sorted `class_names`, or float32 values
    with `target_names`. `task` is one of TASK_CHOICES; `auto` is resolved here."""
    column = series.name
    task = infer_task(series) if task == "auto" else task
    if task == "regression":
        if not is_numeric(series):
            raise DataError(
                f"target column {column!r} of {source} is not numeric, so it cannot be a "
                "regression target (config key 'data.source.task'); use auto or multiclass"
            )
        return series.to_numpy(dtype=np.float32), task, {"target_names": [str(column)]}
    if not is_numeric(series):
        values = series.astype(str).to_numpy()
    elif _whole_numbers(series):
        values = series.to_numpy(dtype=np.int64)  # 1.0 (an int column with gaps) names class 1
    else:
        values = series.to_numpy()
    classes, y = np.unique(values, return_inverse=True)
    names = [str(c) for c in classes]
    if len(names) < 2:
        raise DataError(
            f"target column {column!r} of {source} has one class only ({names[0]!r}); "
            "classification needs at least 2"
        )
    if task == "binary" and len(names) != 2:
        raise DataError(
            f"config key 'data.source.task' is 'binary', but target column {column!r} of "
            f"{source} has {len(names)} classes; use multiclass or auto"
        )
    return y.astype(np.int64), task, {"class_names": names}
