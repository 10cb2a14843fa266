"""Record per-epoch metrics and write the pipeline's plots/history.csv and metrics/train.json.

Both files use the logged metric names (`train/loss`, `val/acc`, ...) unchanged.

TensorBoard and CSV loggers keep their own (timestamped) files; these two files hold only
numbers, so a repeated run writes identical bytes and DVC sees no change.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import ModelCheckpoint

from mlplab.atomic import write_json, write_text
from mlplab.training.weights import weight_sparsity

LEADING = ("epoch", "lr", "train/loss", "val/loss")  # then every other train/ and val/ metric


class HistoryRecorder(L.Callback):
    def __init__(self, history_file: Path, summary_file: Path) -> None:
        self.history_file, self.summary_file = Path(history_file), Path(summary_file)
        self.rows: list[dict[str, float]] = []
        self._epoch_lr = math.nan

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        # The LR the epoch trained with: epoch-interval schedulers step after the epoch ends.
        self._epoch_lr = trainer.optimizers[0].param_groups[0]["lr"]

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.sanity_checking:
            return
        metrics = trainer.callback_metrics
        row: dict[str, float] = {"epoch": trainer.current_epoch, "lr": self._epoch_lr}
        for key, value in metrics.items():
            if key.startswith(("train/", "val/")) and value.numel() == 1:
                row[key] = float(value)
        self.rows.append(row)

    def on_fit_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not trainer.is_global_zero:
            return
        write_text(self.history_file, self.history_csv())
        write_json(self.summary_file, self.summary(trainer))

    def history_csv(self) -> str:
        seen = {key for row in self.rows for key in row}
        columns = [c for c in LEADING if c in seen] + sorted(seen - set(LEADING))
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        for row in self.rows:
            writer.writerow({k: _fmt(row.get(k)) for k in columns})
        return out.getvalue()

    def summary(self, trainer: L.Trainer) -> dict[str, Any]:
        """metrics/train.json: the epoch with the lowest val/loss and the last epoch, each as
        {metric: value} under the names history.csv and TensorBoard use."""
        summary: dict[str, Any] = {"epochs_trained": len(self.rows)}
        val_rows = [r for r in self.rows if "val/loss" in r]
        if val_rows:
            best = min(val_rows, key=lambda r: r["val/loss"])
            summary["best_epoch"] = int(best["epoch"])
            summary["best"] = _metrics(best)
        summary["final"] = _metrics(self.rows[-1])
        summary["weight_sparsity"] = weight_sparsity(_evaluated_weights(trainer))
        return summary


def _metrics(row: dict[str, float]) -> dict[str, float]:
    """A history row's train/ and val/ metrics (not its epoch or learning rate)."""
    return {k: v for k, v in row.items() if k.startswith(("train/", "val/"))}


def _evaluated_weights(trainer: L.Trainer) -> dict[str, torch.Tensor]:
    """The weights the test and evaluate stages score: the best checkpoint's, else the final."""
    checkpoint = trainer.checkpoint_callback
    if isinstance(checkpoint, ModelCheckpoint) and checkpoint.best_model_path:
        saved = torch.load(checkpoint.best_model_path, map_location="cpu", weights_only=True)
        return saved["state_dict"]
    return trainer.lightning_module.state_dict()


def _fmt(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else f"{value:.8g}"
