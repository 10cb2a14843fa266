"""Callbacks a benchmark adds to `train()` through the config: a clock of every epoch and a
diagnostics callback that adds up its own hooks' time."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import lightning as L
import torch

from mlplab.training.diagnostics import Diagnostics
from mlplab.training.group import GroupTrainer


class EpochClock(L.Callback):
    """Per training epoch: its start time, training samples and train-phase seconds (the epoch
    less the validation inside it); the fit's end time; written to `path` when the fit ends.

    Configured callbacks come before it, so their epoch-end work (diagnostics' file writes)
    counts as train phase; Lightning moves checkpoint callbacks last, so their saves count in the
    full epoch only: from one epoch's start to the next one's (or to the end of training).
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.starts: list[float] = []
        self.samples: list[int] = []
        self.train_seconds: list[float] = []
        self.threads = 0
        self._start = self._val_start = self._end = 0.0

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.threads = torch.get_num_threads()  # what train() runs with, for the raw loop

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._start = time.perf_counter()
        self.starts.append(self._start)
        self.samples.append(0)

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any, i: int
    ) -> None:
        self.samples[-1] += len(batch[1])

    def on_validation_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._val_start = time.perf_counter()

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not trainer.sanity_checking:
            self._start += time.perf_counter() - self._val_start  # not training time

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.train_seconds.append(time.perf_counter() - self._start)

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._end = time.perf_counter()

    def on_fit_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        record = {
            "starts": self.starts,
            "end": self._end,
            "samples": self.samples,
            "train_seconds": self.train_seconds,
            "threads": self.threads,
        }
        Path(self.path).write_text(json.dumps(record))


class TimedDiagnostics(Diagnostics):
    """The diagnostics callback, adding up the seconds its training hooks take (the forward
    and tensor hooks it attaches on logged steps only store references and are not counted):
    its cost measured inside one run, free of the run-to-run noise of a shared machine."""

    seconds = 0.0  # over every instance in this process; the harness resets it per run

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


class TimedGroup(GroupTrainer):
    """The stacked loop (runtime.engine=stacked), noting when each validation starts and ends:
    an epoch's train phase runs from the previous validation's end to its own start."""

    def fit(self) -> Any:
        self.marks: list[tuple[float, float]] = []
        self.started = time.perf_counter()
        return super().fit()

    def _validate(self, epoch: int, divergence: Any) -> None:
        start = time.perf_counter()
        super()._validate(epoch, divergence)
        self.marks.append((start, time.perf_counter()))

    def samples_per_epoch(self) -> int:
        sampler = self.members[0].sampler
        bounds = sampler._batch_bounds()[: self._batches("train", len(sampler))]
        return sum(stop - start for start, stop in bounds)
