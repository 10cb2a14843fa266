"""Evaluate a checkpoint on its test split, independently of the Trainer that made it."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from mlplab.atomic import write_json, write_text
from mlplab.data.split import split_rows
from mlplab.data.store import read_prepared
from mlplab.errors import DataError
from mlplab.evaluation.scores import classification_scores, multilabel_scores, regression_scores
from mlplab.models.module import MLPModule


@dataclass
class Evaluation:
    rows: np.ndarray  # dataset row index of each test example
    metrics: dict[str, Any]
    table: dict[str, list[Any]]  # per-row columns of plots/predictions.csv
    confusion: list[dict[str, str]] = field(default_factory=list)  # classification only


def load_checkpoint(path: str | Path) -> MLPModule:
    path = Path(path)
    if not path.is_file():
        raise DataError(f"checkpoint {path} does not exist; train first (`dvc repro train`)")
    model = MLPModule.load_from_checkpoint(path, map_location="cpu", weights_only=True)
    return model.eval()


@torch.no_grad()
def predict_outputs(model: MLPModule, X: np.ndarray, rows: np.ndarray, batch_size: int):
    """Model-unit outputs (logits or standardised targets) for the given rows, in batches."""
    chunks = [
        model(torch.from_numpy(np.asarray(X[rows[s : s + batch_size]])))
        for s in range(0, len(rows), batch_size)
    ]
    return torch.cat(chunks)


def evaluate_checkpoint(
    ckpt_path: str | Path, data_dir: str | Path, split: dict[str, Any], batch_size: int
) -> Evaluation:
    model = load_checkpoint(ckpt_path)
    prepared = read_prepared(data_dir)
    parts = split_rows(prepared.y, prepared.meta["task"], split)
    if model.hparams.split_digest not in (None, parts.digest()):
        raise DataError(
            f"checkpoint {ckpt_path} was trained on split {model.hparams.split_digest}, but the "
            f"data and data.split config give split {parts.digest()}; evaluate with the "
            "config the checkpoint was trained with"
        )
    rows = parts.test
    outputs = predict_outputs(model, prepared.X, rows, batch_size)
    targets = torch.from_numpy(np.asarray(prepared.y[rows]))
    loss = float(model.task.loss(outputs, model.to_model_units(targets)))
    meta, task = model.hparams.meta, model.hparams.task
    if task == "regression":
        metrics, table = regression_scores(model.to_target_units(outputs), targets, meta)
        confusion = []
    elif task == "multilabel":
        metrics, table = multilabel_scores(outputs, targets, meta)
        confusion = []
    else:
        probs = model.task.class_probabilities(outputs)
        metrics, table, confusion = classification_scores(probs, targets, meta)
    metrics = {"loss": loss, **metrics, "n_test": len(rows)}
    return Evaluation(rows=rows, metrics=metrics, table=table, confusion=confusion)


def write_evaluation(ev: Evaluation, out_dir: str | Path) -> None:
    """metrics/test.json, plots/confusion.json (DVC's confusion template; empty unless the task
    has one class per row) and plots/predictions.csv."""
    out_dir = Path(out_dir)
    write_json(out_dir / "metrics" / "test.json", _rounded(ev.metrics))
    write_json(out_dir / "plots" / "confusion.json", ev.confusion)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["row", *ev.table])
    for i, row in enumerate(ev.rows):
        writer.writerow([int(row), *(_cell(column[i]) for column in ev.table.values())])
    write_text(out_dir / "plots" / "predictions.csv", buf.getvalue())


def _cell(value: Any) -> Any:
    return f"{value:.6g}" if isinstance(value, float) else value


def _rounded(value: Any) -> Any:
    """Round floats to 6 digits so metrics files stay readable in `dvc metrics show`."""
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    return value
