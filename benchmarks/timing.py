"""Callbacks timing training batches, validation and checkpoints excluded."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import lightning as L

from mlplab.training.diagnostics import Diagnostics


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


class TrainPhaseTimer(L.Callback):
    """Seconds and samples of every training epoch, validation excluded; written at fit end.

    An epoch runs from its start to its end hook, less the validation inside it; the callback
    comes after the configured ones, so their epoch-end work (diagnostics' file writes) counts.
    """

    def __init__(self, path: str) -> None:
        self.path, self.samples, self.seconds = path, 0, 0.0
        self._start, self._val_start = 0.0, 0.0

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._start = time.perf_counter()

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any, i: int
    ) -> None:
        self.samples += len(batch[1])

    def on_validation_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._val_start = time.perf_counter()

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not trainer.sanity_checking:
            self._start += time.perf_counter() - self._val_start  # not training time

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.seconds += time.perf_counter() - self._start

    def on_fit_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        Path(self.path).write_text(json.dumps({"samples": self.samples, "seconds": self.seconds}))


class TimedDiagnostics(Diagnostics):
    """The diagnostics callback, adding up the seconds its training hooks take (the forward
    and tensor hooks it attaches on logged steps only store references and are not counted):
    its cost measured inside one run, free of the run-to-run noise of a shared machine."""

    seconds = 0.0  # over every instance in this process

    def on_train_batch_start(self, *args: Any, **kwargs: Any) -> None:
        self._timed(super().on_train_batch_start, *args, **kwargs)

    def on_before_optimizer_step(self, *args: Any, **kwargs: Any) -> None:
        self._timed(super().on_before_optimizer_step, *args, **kwargs)

    def on_train_batch_end(self, *args: Any, **kwargs: Any) -> None:
        self._timed(super().on_train_batch_end, *args, **kwargs)

    def on_train_epoch_end(self, *args: Any, **kwargs: Any) -> None:
        self._timed(super().on_train_epoch_end, *args, **kwargs)

    @staticmethod
    def _timed(hook: Any, *args: Any, **kwargs: Any) -> None:
        start = time.perf_counter()
        try:
            hook(*args, **kwargs)
        finally:
            TimedDiagnostics.seconds += time.perf_counter() - start
