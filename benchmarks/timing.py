"""A callback timing the training batches of one epoch, validation and checkpoints excluded."""

from __future__ import annotations

import json
import time
from typing import Any

import lightning as L


class EpochTimer(L.Callback):
    """Writes {samples, seconds} of the first training epoch to `path` when training ends."""

    def __init__(self, path: str) -> None:
        self.path, self.samples, self.start, self.end = path, 0, 0.0, 0.0

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.current_epoch == 0:
            self.start = time.perf_counter()

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any, i: int
    ) -> None:
        if trainer.current_epoch == 0:
            self.samples += len(batch[1])
            self.end = time.perf_counter()

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        with open(self.path, "w") as f:
            json.dump({"samples": self.samples, "seconds": self.end - self.start}, f)
