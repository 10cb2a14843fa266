"""Ctrl-C that stops a run cleanly: models/last.ckpt written at a point it resumes from exactly.

Lightning turns a KeyboardInterrupt into its own shutdown messages and exit code 1, and the
interrupt may land inside an optimizer step. `GracefulStop` takes SIGINT while it is active
(`with stop:`): the first Ctrl-C only asks to stop; training then stops where `LastCheckpoint`
itself saves (training/resume.py): after a train batch that is not the epoch's last (last.ckpt
written there, as `every_n_train_steps` writes it) or, in an epoch's last batch or its
validation, after the epoch-end checkpoint (which it asks `LastCheckpoint` to write even in an
epoch it would skip), when the next epoch would start. A second Ctrl-C
stops at once, keeping last.ckpt as it is. Either way `Interrupted` is raised; the entry script
turns it into one line and exit code 130.
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from types import FrameType
from typing import Any

import lightning as L

from mlplab.training.resume import LAST, LastCheckpoint


class Interrupted(Exception):
    """Training stopped on Ctrl-C (or SIGTERM: `kill`, a scheduler's preemption, `timeout`);
    `checkpoint` is the last.ckpt to resume (None: none yet)."""

    def __init__(self, checkpoint: Path | None, signal_name: str = "SIGINT") -> None:
        super().__init__(f"interrupted by {signal_name}; last checkpoint: {checkpoint}")
        self.checkpoint, self.signal_name = checkpoint, signal_name


class GracefulStop(L.Callback):
    def __init__(self, models_dir: Path) -> None:
        self.last = Path(models_dir) / LAST
        self.requested = False
        self._previous: Any = None

    def __enter__(self) -> GracefulStop:
        if threading.current_thread() is threading.main_thread():  # where Python takes signals
            self._previous = signal.signal(signal.SIGINT, self._on_sigint)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)

    def _on_sigint(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:  # the second Ctrl-C: now
            raise self.interrupted()
        self.requested = True

    def interrupted(self, signal_name: str = "SIGINT") -> Interrupted:
        return Interrupted(self.last if self.last.is_file() else None, signal_name)

    def check(self) -> None:
        """Outside a fit (before it, after it): stop now if asked."""
        if self.requested:
            raise self.interrupted()

    def _asked(self, trainer: L.Trainer) -> bool:
        # Under DDP every rank stops at the same batch, whichever rank got the signal.
        return bool(trainer.strategy.reduce_boolean_decision(self.requested, all=False))

    def on_train_batch_end(self, trainer: L.Trainer, *args: Any, **kwargs: Any) -> None:
        if not self._asked(trainer):
            return
        if trainer.fit_loop.epoch_loop.batch_progress.is_last_batch:
            self._save_at_epoch_end(trainer)  # after validation; stop at the next epoch
            return
        for callback in trainer.checkpoint_callbacks:
            saved = getattr(callback, "_last_global_step_saved", None) == trainer.global_step
            if isinstance(callback, LastCheckpoint) and not saved:
                callback._save_topk_checkpoint(trainer, callback._monitor_candidates(trainer))
        self.requested = True
        raise self.interrupted()

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        # Runs before the checkpoint callbacks' own hook (Lightning orders those last).
        if not trainer.sanity_checking and self._asked(trainer):
            self._save_at_epoch_end(trainer)

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self._asked(trainer):  # an epoch without validation saves here
            self._save_at_epoch_end(trainer)

    def _save_at_epoch_end(self, trainer: L.Trainer) -> None:
        """LastCheckpoint saves only every N epochs: make this epoch's end one it saves."""
        self.requested = True
        for callback in trainer.checkpoint_callbacks:
            if isinstance(callback, LastCheckpoint):
                callback.stop_requested = True

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self._asked(trainer):
            self.requested = True
            raise self.interrupted()
