"""Evaluate a checkpoint on its test split, independently of the Trainer that made it."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torchmetrics.functional.classification import (
    multiclass_accuracy,
    multiclass_f1_score,
    multiclass_precision,
    multiclass_recall,
)

from mlplab.atomic import write_json, write_text
from mlplab.data.datamodule import split_for
from mlplab.data.store import read_prepared
from mlplab.errors import DataError
from mlplab.models.module import MLPModule


@dataclass
class Evaluation:
    rows: np.ndarray  # dataset row index of each test example
    targets: np.ndarray
    predictions: np.ndarray
    confidence: np.ndarray
    class_names: list[str]
    metrics: dict[str, Any]


def load_checkpoint(path: str | Path) -> MLPModule:
    path = Path(path)
    if not path.is_file():
        raise DataError(f"checkpoint {path} does not exist; train first (`dvc repro train`)")
    model = MLPModule.load_from_checkpoint(path, map_location="cpu", weights_only=True)
    return model.eval()


@torch.no_grad()
def predict_logits(model: MLPModule, X: np.ndarray, rows: np.ndarray, batch_size: int):
    chunks = [
        model(torch.from_numpy(np.asarray(X[rows[s : s + batch_size]])))
        for s in range(0, len(rows), batch_size)
    ]
    return torch.cat(chunks)


def evaluate_checkpoint(
    ckpt_path: str | Path, data_dir: str | Path, split: dict[str, Any], batch_size: int
) -> Evaluation:
    model = load_checkpoint(ckpt_path)
    meta = model.hparams.meta
    prepared = read_prepared(data_dir)
    rows = split_for(prepared, split["val"], split["test"], split["seed"], split["stratify"])
    if model.hparams.split_digest not in (None, rows.digest()):
        raise DataError(
            f"checkpoint {ckpt_path} was trained on split {model.hparams.split_digest}, but the "
            f"data and data.split config give split {rows.digest()}; evaluate with the "
            "config the checkpoint was trained with"
        )
    test_rows = rows.test
    logits = predict_logits(model, prepared.X, test_rows, batch_size)
    targets = torch.from_numpy(np.asarray(prepared.y[test_rows]))
    classes = list(meta["class_names"])
    n = len(classes)
    probs = logits.softmax(dim=1)
    predictions = probs.argmax(dim=1)
    precision = multiclass_precision(logits, targets, n, average="none", zero_division=0)
    recall = multiclass_recall(logits, targets, n, average="none", zero_division=0)
    metrics = {
        "loss": float(F.cross_entropy(logits, targets)),
        "accuracy": float(multiclass_accuracy(logits, targets, n, average="micro")),
        "f1_macro": float(multiclass_f1_score(logits, targets, n, average="macro")),
        "n_test": len(test_rows),
        "per_class": {
            name: {"precision": float(p), "recall": float(r)}
            for name, p, r in zip(classes, precision, recall, strict=True)
        },
    }
    return Evaluation(
        rows=test_rows,
        targets=targets.numpy(),
        predictions=predictions.numpy(),
        confidence=probs.max(dim=1).values.numpy(),
        class_names=classes,
        metrics=metrics,
    )


def write_evaluation(ev: Evaluation, out_dir: str | Path) -> None:
    """metrics/test.json, plots/confusion.json (DVC's confusion template), plots/predictions.csv."""
    out_dir = Path(out_dir)
    write_json(out_dir / "metrics" / "test.json", _rounded(ev.metrics))
    names = ev.class_names
    pairs = [
        {"actual": names[t], "predicted": names[p]}
        for t, p in zip(ev.targets, ev.predictions, strict=True)
    ]
    write_json(out_dir / "plots" / "confusion.json", pairs)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["row", "actual", "predicted", "confidence"])
    for row, t, p, c in zip(ev.rows, ev.targets, ev.predictions, ev.confidence, strict=True):
        writer.writerow([int(row), names[t], names[p], f"{c:.6f}"])
    write_text(out_dir / "plots" / "predictions.csv", buf.getvalue())


def _rounded(value: Any) -> Any:
    """Round floats to 6 digits so metrics files stay readable in `dvc metrics show`."""
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    return value
