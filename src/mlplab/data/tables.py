"""A user table (CSV or Parquet) to a Dataset, every check before any array is built.

Order matters: rows with missing values go first (missing=drop), then the target picks the
task, then the split (the same `data.split` every stage uses, on the same y) gives the train
rows that the feature encoding is fitted on. prepare writes nothing unless all of it passes.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from mlplab.data.dataset import Dataset
from mlplab.data.encoding import (
    FILL_ADVICE,
    MISSING_POLICIES,
    TableEncoding,
    first_missing,
    numeric_values,
)
from mlplab.data.files import check_encoding, read_table
from mlplab.data.split import split_rows
from mlplab.data.targets import TASK_CHOICES, encode_target, is_numeric
from mlplab.errors import ConfigError, DataError

log = logging.getLogger(__name__)


def _names(key: str, value: Any) -> list[str]:
    """Column names from config: null, one name, or a list of names."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return list(value)
    raise ConfigError(f"config key 'data.source.{key}' is {value!r}; it must be a list of columns")


def _check_choice(key: str, value: Any, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ConfigError(
            f"config key 'data.source.{key}' is {value!r}; allowed values: {', '.join(allowed)}"
        )


def select_features(
    frame: pd.DataFrame,
    path: str,
    target: str,
    features: list[str] | None,
    drop: list[str],
    categorical: list[str],
) -> list[str]:
    """The feature columns: `features` (or every column but the target), minus `drop`.
    Every name the config gives must be a column of the file."""
    for key, names in (
        ("target", [target]),
        ("features", features or []),
        ("drop", drop),
        ("categorical", categorical),
    ):
        for name in names:
            if name not in frame.columns:
                raise DataError(
                    f"config key 'data.source.{key}' names column {name!r}, but data file "
                    f"{path} has no such column; its columns: {', '.join(frame.columns)}"
                )
        if key != "target" and target in names:
            raise ConfigError(f"config key 'data.source.{key}' lists the target column {target!r}")
    if features is None:
        features = [c for c in frame.columns if c != target]
    chosen = [c for c in features if c not in drop]
    for name in categorical:
        if name not in chosen:
            raise ConfigError(
                f"config key 'data.source.categorical' lists {name!r}, which is not a feature "
                "(it is in data.source.drop, or not in data.source.features)"
            )
    if not chosen:
        raise ConfigError(f"no feature columns of {path} are left after data.source.drop")
    for name in chosen:
        if name not in categorical:
            numeric_values(frame, name, path)  # text not declared categorical stops here
    return chosen


def handle_missing(
    frame: pd.DataFrame,
    path: str,
    target: str,
    features: list[str],
    categorical: list[str],
    missing: str,
) -> pd.DataFrame:
    """The missing-value policy over the used columns (inf counts as missing): `error` stops,
    `drop` drops those rows, `median` leaves feature gaps to the encoding (a missing target
    still stops it)."""

    def gaps(column: str) -> pd.Series:
        if column in categorical or not is_numeric(frame[column]):
            return frame[column].isna()
        return numeric_values(frame, column, path).isna()

    found = {column: gaps(column) for column in [target, *features]}
    if missing == "drop":
        keep = ~np.logical_or.reduce([gap.to_numpy() for gap in found.values()])
        if not keep.all():
            log.info(
                "dropped %d of %d rows with missing values in %s", (~keep).sum(), len(keep), path
            )
        return frame[keep].reset_index(drop=True)
    for column in [target] if missing == "median" else found:
        if found[column].any():
            what = "target column" if column == target else "column"
            advice = "set data.source.missing=drop" if column == target else FILL_ADVICE
            raise DataError(
                f"{what} {column!r} of {path} has {first_missing(found[column])}; {advice}"
            )
    return frame


def load_file(
    fmt: str,
    path: str,
    target: str,
    features: list[str] | None,
    drop: list[str] | None,
    task: str,
    missing: str,
    categorical: list[str] | None,
    split: dict[str, Any] | None,
    text_encoding: str | None,
) -> Dataset:
    """The file sources' work (file_sources.py names the arguments). `path` and `target` may
    arrive from the config as anything: they are checked to be text first."""
    given: tuple[tuple[str, object, str], ...] = (
        ("path", path, "file to read"),
        ("target", target, "target column"),
    )
    for key, value, what in given:
        if not isinstance(value, str) or not value:
            raise ConfigError(f"config key 'data.source.{key}' is {value!r}; give the {what}")
    if text_encoding is not None:  # csv; a Parquet file records its own
        check_encoding(text_encoding)
    _check_choice("task", task, TASK_CHOICES)
    _check_choice("missing", missing, MISSING_POLICIES)
    if split is None:
        raise ConfigError(
            f"data source {fmt!r} fits its encoding on the train split: pass data.split"
        )
    drop, categorical = _names("drop", drop), _names("categorical", categorical)
    wanted = None if features is None else _names("features", features)
    frame = read_table(path, fmt, categorical, encoding=text_encoding)
    features = select_features(frame, path, target, wanted, drop, categorical)
    n_read = len(frame)
    frame = handle_missing(frame, path, target, features, categorical, missing)
    if frame.empty:
        raise DataError(f"no rows of {path} are left after dropping rows with missing values")
    y, task, target_meta = encode_target(frame[target], task, path)
    parts = split_rows(y, task, split)
    encoding = TableEncoding.fit(frame, parts.train, features, categorical, missing, path)
    meta = {
        "task": task,
        **target_meta,
        "feature_names": encoding.feature_names(),
        # What src/predict.py replays on new files; training copies it into the checkpoint.
        "preprocessing": {**encoding.to_dict(), "target": target, "format": fmt},
        "rows_dropped": n_read - len(frame),
    }
    return Dataset(X=encoding.transform(frame, path), y=y, meta=meta)
