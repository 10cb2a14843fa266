"""Evaluate a checkpoint on its test split, independently of the Trainer that made it.

The metrics come from the task's own collection (models/tasks.py), the one the LightningModule
logs, so metrics/test.json holds the Trainer's `test/<name>` values under the same names.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from mlplab.atomic import finite_or_none, write_json, write_text
from mlplab.data.split import split_rows
from mlplab.data.store import read_prepared
from mlplab.errors import DataError
from mlplab.models.module import MLPModule


@dataclass
class Evaluation:
    rows: np.ndarray  # dataset row index of each test example
    metrics: dict[str, Any]  # test/loss, test/<metric>, n_test, the task's extra facts
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
    if model.hparams["split_digest"] != parts.digest():
        raise DataError(
            f"checkpoint {ckpt_path} was trained on split {model.hparams['split_digest']}, but the "
            f"data and data.split config give split {parts.digest()}; evaluate with the "
            "config the checkpoint was trained with"
        )
    evaluation = score_rows(model, prepared.X, prepared.y, parts.test, batch_size)
    evaluation.metrics.update(checkpoint=str(ckpt_path), weights=weights_name(ckpt_path))
    return evaluation


def weights_name(ckpt_path: str | Path) -> str | None:
    """`best` or `last` for the checkpoints training writes (evaluate.weights), else None."""
    stem = Path(ckpt_path).stem
    return stem if stem in ("best", "last") else None


def score_rows(
    model: MLPModule, X: np.ndarray, y: np.ndarray, rows: np.ndarray, batch_size: int
) -> Evaluation:
    """The model's loss, its task's scores and the prediction table on the given rows."""
    outputs = predict_outputs(model, X, rows, batch_size)
    targets = torch.from_numpy(np.asarray(y[rows]))
    loss = float(model.task.loss(outputs, model.to_model_units(targets)))
    scores = model.task.score(model.to_target_units(outputs), targets, model.hparams["meta"])
    metrics = {"test/loss": loss, **scores.metrics, "n_test": len(rows)}
    return Evaluation(rows=rows, metrics=metrics, table=scores.table, confusion=scores.confusion)


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
    """Round floats to 6 digits so metrics files stay readable in `dvc metrics show`; a
    non-finite value (a NaN loss) is null, so the file stays strict JSON."""
    if isinstance(value, float):
        rounded = finite_or_none(value)
        return None if rounded is None else round(rounded, 6)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value
