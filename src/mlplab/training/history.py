"""Record per-epoch metrics and per-step learning rates: plots/history.csv, plots/lr.csv and
metrics/train.json (with the tested weights' size: sparsity, parameters, FLOPs per example).

Both files use the logged metric names (`train/loss`, `val/acc`, ...) unchanged. A diverged run
(RunDiverged) still writes both, with `"diverged": true`; a non-finite value is a blank cell in
the CSV and null in the JSON, which stays strict.

TensorBoard keeps its own (timestamped) event files; these files hold only
numbers, so a repeated run writes identical bytes and DVC sees no change.

plots/lr.csv has one row per optimizer step, `step,epoch,lr`: the LR that step used (read just
before the optimizer steps), so a step-interval schedule (onecycle's warm-up) shows in full;
`lr/1`, `lr/2`, ... follow only when parameter groups ever differ (`lr` is group 0's).
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any

import lightning as L
import torch

from mlplab.atomic import finite_or_none, write_json, write_text
from mlplab.errors import RunDiverged
from mlplab.models.module import model_size
from mlplab.training.weights import weight_sparsity

LEADING = ("epoch", "lr", "train/loss", "val/loss")  # then every other train/ and val/ metric
SIZE_KEYS = ("parameters", "nonzero_weights", "flops", "sparse_flops")  # null after divergence


class HistoryRecorder(L.Callback):
    def __init__(
        self, history_file: Path, summary_file: Path, tested_checkpoint: Path | None = None
    ) -> None:
        """`tested_checkpoint`: the weights the test scores (models/best.ckpt or last.ckpt, by
        evaluate.weights), whose weight_sparsity train.json reports; None: the final weights."""
        self.history_file, self.summary_file = Path(history_file), Path(summary_file)
        self.tested_checkpoint = tested_checkpoint
        self.lr_file = self.history_file.with_name("lr.csv")
        self.rows: list[dict[str, float]] = []
        self.lr_rows: list[list[float]] = []  # [step, epoch, LR of each parameter group]
        self._epoch_lr = math.nan

    def state_dict(self) -> dict[str, Any]:
        """Saved in every checkpoint: a resumed run writes the rows of the epochs before too,
        and the LR of an epoch it resumes in the middle of (its epoch-start hook is skipped)."""
        return {"rows": self.rows, "lr_rows": self.lr_rows, "epoch_lr": self._epoch_lr}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.rows = [dict(row) for row in state_dict["rows"]]
        # Checkpoints written before plots/lr.csv existed have no lr_rows: those steps are blank.
        self.lr_rows = [list(row) for row in state_dict.get("lr_rows", [])]
        self._epoch_lr = state_dict["epoch_lr"]

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        # The LR the epoch trained with: epoch-interval schedulers step after the epoch ends.
        self._epoch_lr = trainer.optimizers[0].param_groups[0]["lr"]

    def on_before_optimizer_step(
        self, trainer: L.Trainer, pl_module: L.LightningModule, optimizer: torch.optim.Optimizer
    ) -> None:
        # global_step counts the steps taken, so it is this step's 0-based index; a step
        # schedule steps after the optimizer, so the groups hold the LR this step uses.
        lrs = [group["lr"] for group in optimizer.param_groups]
        self.lr_rows.append([trainer.global_step, trainer.current_epoch, *lrs])

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
        self._write(trainer, diverged=False)

    def on_exception(
        self, trainer: L.Trainer, pl_module: L.LightningModule, exception: BaseException
    ) -> None:
        if isinstance(exception, RunDiverged):
            self._write(trainer, diverged=True)

    def _write(self, trainer: L.Trainer, diverged: bool) -> None:
        if trainer.is_global_zero:
            self.write(diverged, None if diverged else trainer.lightning_module.state_dict())

    def write(self, diverged: bool, final: dict[str, torch.Tensor] | None) -> None:
        """plots/history.csv, plots/lr.csv and metrics/train.json; `final`: the final weights
        (None after a divergence), for train.json's weight_sparsity when no checkpoint is
        tested."""
        write_text(self.history_file, self.history_csv())
        write_text(self.lr_file, self.lr_csv())
        tested = self.tested_checkpoint.stem if self.tested_checkpoint else "final"
        record = {"diverged": diverged, "weights": tested}  # weights: those tested
        write_json(self.summary_file, {**self.summary(final), **record})

    def history_csv(self) -> str:
        seen = {key for row in self.rows for key in row}
        # A run that diverged in its first epoch has no rows: the header alone.
        columns = [c for c in LEADING if c in seen or not seen] + sorted(seen - set(LEADING))
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        for row in self.rows:
            writer.writerow({k: _fmt(row.get(k)) for k in columns})
        return out.getvalue()

    def lr_csv(self) -> str:
        groups = max((len(row) - 2 for row in self.lr_rows), default=1)
        differ = any(len(set(row[2:])) > 1 for row in self.lr_rows)
        extra = [f"lr/{i}" for i in range(1, groups)] if differ else []
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["step", "epoch", "lr", *extra])
        for row in self.lr_rows:
            writer.writerow(_fmt(v) for v in row[: 3 + len(extra)])
        return out.getvalue()

    def summary(self, final: dict[str, torch.Tensor] | None) -> dict[str, Any]:
        """metrics/train.json: the epoch with the lowest val/loss and the last epoch, each as
        {metric: value} under the names history.csv and TensorBoard use, and the size of the
        tested weights: weight_sparsity, parameters, non-zero weights, FLOPs per example."""
        summary: dict[str, Any] = {"epochs_trained": len(self.rows)}
        val_rows = [r for r in self.rows if math.isfinite(r.get("val/loss", math.nan))]
        if val_rows:
            best = min(val_rows, key=lambda r: r["val/loss"])
            summary["best_epoch"] = int(best["epoch"])
            summary["best"] = _metrics(best)
        if self.rows:
            summary["final"] = _metrics(self.rows[-1])
        weights = self._tested_weights(final)
        summary["weight_sparsity"] = None if weights is None else weight_sparsity(weights)
        # parameters, nonzero_weights, flops, sparse_flops (per example): models/module.py
        size = model_size(weights) if weights is not None else dict.fromkeys(SIZE_KEYS)
        return {**summary, **size}

    def _tested_weights(
        self, final: dict[str, torch.Tensor] | None
    ) -> dict[str, torch.Tensor] | None:
        """The tested checkpoint's weights; without one, the final weights (if any)."""
        if self.tested_checkpoint and self.tested_checkpoint.is_file():
            saved = torch.load(self.tested_checkpoint, map_location="cpu", weights_only=True)
            return saved["state_dict"]
        return final


def _metrics(row: dict[str, float]) -> dict[str, float | None]:
    """A history row's train/ and val/ metrics (not its epoch or learning rate); null for NaN."""
    return {k: finite_or_none(v) for k, v in row.items() if k.startswith(("train/", "val/"))}


def _fmt(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return ""
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else f"{value:.8g}"
