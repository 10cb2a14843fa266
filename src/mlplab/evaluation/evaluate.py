"""Evaluate a checkpoint on its test split, independently of the Trainer that made it.

The metrics come from the task's own collection (models/tasks.py), the one the LightningModule
logs, so metrics/test.json holds the Trainer's `test/<name>` values under the same names.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from omegaconf import DictConfig

from mlplab.atomic import finite_or_none, write_json, write_text
from mlplab.cli import shown
from mlplab.config.rules import plain
from mlplab.data.split import split_rows
from mlplab.data.store import prepared_dir, read_prepared
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
    """metrics/test.json, plots/predictions.csv and the files dvc.yaml's charts draw:
    plots/confusion.json (DVC's confusion template), plots/calibration.csv and
    plots/actual_vs_predicted.csv. A chart that does not fit the task gets an empty file
    (`[]`, a header line), which DVC skips: no empty frame, no error."""
    out_dir = Path(out_dir)
    write_json(out_dir / "metrics" / "test.json", _rounded(ev.metrics))
    write_json(out_dir / "plots" / "confusion.json", ev.confusion)
    rows = [
        [int(row), *(column[i] for column in ev.table.values())] for i, row in enumerate(ev.rows)
    ]
    write_text(out_dir / "plots" / "predictions.csv", _csv(["row", *ev.table], rows))
    write_text(out_dir / "plots" / "calibration.csv", _csv(CALIBRATION_COLUMNS, calibration(ev)))
    write_text(
        out_dir / "plots" / "actual_vs_predicted.csv",
        _csv(["target", "actual", "predicted"], actual_vs_predicted(ev)),
    )


# Guo et al., "On Calibration of Modern Neural Networks" (2017): reliability diagram bins.
CALIBRATION_BINS = 10
CALIBRATION_COLUMNS = ["bin_low", "bin_high", "confidence", "accuracy", "count"]


def calibration(ev: Evaluation) -> list[list[Any]]:
    """Tasks with one class per row: the test rows in equal-width bins of predicted confidence,
    each bin's mean confidence, its observed accuracy and its row count (empty bins left out).
    A calibrated model's points lie on the diagonal. Other tasks: no rows."""
    if "confidence" not in ev.table:
        return []
    confidence = np.asarray(ev.table["confidence"], dtype=float)
    correct = np.asarray(ev.table["actual"]) == np.asarray(ev.table["predicted"])
    edges = np.linspace(0.0, 1.0, CALIBRATION_BINS + 1)
    # Bin i holds (edges[i], edges[i + 1]]; a confidence of exactly 0 goes to the first.
    bins = np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, CALIBRATION_BINS - 1)
    rows = []
    for i in range(CALIBRATION_BINS):
        members = bins == i
        if members.any():
            rows.append(
                [
                    float(edges[i]),
                    float(edges[i + 1]),
                    float(confidence[members].mean()),
                    float(correct[members].mean()),
                    int(members.sum()),
                ]
            )
    return rows


def actual_vs_predicted(ev: Evaluation) -> list[list[Any]]:
    """Regression (its actual columns are numbers): one row per test row and target, `target`
    naming it (blank for a single target). Other tasks: no rows."""
    actual = [k for k in ev.table if k.startswith("actual")]
    if "confidence" in ev.table or not all(
        isinstance(v, float) for k in actual for v in ev.table[k]
    ):
        return []
    rows = []
    for column in actual:  # `actual` or `actual_<target>`, beside `predicted[_<target>]`
        target = column.removeprefix("actual").removeprefix("_")
        pairs = zip(ev.table[column], ev.table["predicted" + column[6:]], strict=True)
        rows += [[target, a, p] for a, p in pairs]
    return rows


def _csv(header: list[str], rows: list[list[Any]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([_cell(v) for v in row] for row in rows)
    return buf.getvalue()


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


def report_test_metrics(cfg: DictConfig, out: Path, trainer_metrics: dict[str, float]) -> None:
    """The tested checkpoint scored as src/evaluate.py scores it: a table on stdout and, in a
    run's own directory, metrics/test.json and the plots evaluate writes. In the pipeline (run
    directory `.`) those files are the evaluate stage's outputs: the table only."""
    tested = out / "models" / f"{cfg.evaluate.weights}.ckpt"
    if not tested.is_file():  # its checkpoint callback disabled: the Trainer's test of the final
        print(_table("test metrics (final weights)", trainer_metrics))
        return
    data = cfg.data
    evaluation = evaluate_checkpoint(
        shown(tested),
        prepared_dir(cfg.paths.data_dir, data.name, plain(data.source), plain(data.split)),
        plain(data.split),
        cfg.evaluate.batch_size,
    )
    if out.resolve() != Path.cwd().resolve():
        write_evaluation(evaluation, out)
    print(_table(f"test metrics ({tested.name})", evaluation.metrics))


def _table(title: str, metrics: Mapping[str, object]) -> str:
    scalars = {k: v for k, v in metrics.items() if isinstance(v, float)}
    width = max((len(k) for k in scalars), default=0)
    return "\n".join([title, *(f"  {k:<{width}}  {v:.4f}" for k, v in scalars.items())])
