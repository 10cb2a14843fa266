"""Predict on a new table with a checkpoint alone: no data config, no prepared arrays.

The checkpoint carries what turns rows into outputs: the fitted column encoding of file
sources (one-hot categories, medians; hparams.meta["preprocessing"]), the input scaling
(buffers) and the task. For built-in datasets the input needs the columns named in
meta["feature_names"]. Outputs go through the same `predict_outputs` and the task's own
`predictions` (models/tasks.py) as in evaluate, so a test row gets the same prediction and
confidence from both.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlplab.atomic import atomic_path
from mlplab.data.encoding import TableEncoding
from mlplab.data.files import file_format, read_table
from mlplab.errors import DataError
from mlplab.evaluation.evaluate import load_checkpoint, predict_outputs
from mlplab.models.module import MLPModule


def encoding_of(meta: dict[str, Any]) -> TableEncoding:
    """The checkpoint's column encoding; built-in data has plain numeric feature columns."""
    if "preprocessing" in meta:
        return TableEncoding.from_dict(meta["preprocessing"])
    return TableEncoding(features=list(meta["feature_names"]))


def predict_table(
    model: MLPModule, frame: pd.DataFrame, source: str, batch_size: int
) -> pd.DataFrame:
    """The input's non-feature columns (IDs, labels: what names a row), in input order, then
    the prediction columns."""
    encoding = encoding_of(model.hparams["meta"])
    X = encoding.transform(frame, source)
    if X.shape[1] != model.spec.in_features:
        raise DataError(
            f"{source} encodes to {X.shape[1]} features, but the model takes "
            f"{model.spec.in_features}; the checkpoint's encoding does not match its model"
        )
    if model.spec.input_kind == "embedding":  # token ids, not measurements
        X = X.astype(np.int64)
    outputs = predict_outputs(model, X, np.arange(len(X)), batch_size)
    predicted = model.task.predictions(model.to_target_units(outputs), model.hparams["meta"])
    kept = [c for c in frame.columns if c not in encoding.features]
    clash = [c for c in kept if c in predicted]
    if clash:
        raise DataError(
            f"{source} already has a column {clash[0]!r}, which predict writes; rename or drop it"
        )
    result = frame[kept].copy()
    for name, values in predicted.items():
        result[name] = values
    return result


def predict_file(
    ckpt_path: str | Path, input_path: str | Path, batch_size: int = 1024
) -> pd.DataFrame:
    """Read `input_path` (CSV, or Parquet by suffix) and predict every row with the checkpoint."""
    model = load_checkpoint(ckpt_path)
    encoding = encoding_of(model.hparams["meta"])
    frame = read_table(input_path, file_format(input_path), encoding.categories, key="input")
    return predict_table(model, frame, str(input_path), batch_size)


def write_predictions(result: pd.DataFrame, output: str | Path) -> None:
    """CSV, or Parquet by suffix; written to a temporary sibling and renamed."""
    with atomic_path(output) as tmp:
        if file_format(output) == "parquet":
            result.to_parquet(tmp, index=False)
        else:
            result.to_csv(tmp, index=False)
