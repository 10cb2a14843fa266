"""Exact resume: which checkpoint a run continues, and the state Lightning does not save.

Lightning restores weights, optimizer, scheduler, loop counters, callbacks and the train
loader's position (data/batches.py `ShardedLoader`). `ResumeState` adds the global RNG states
(dropout) and a hash of the run's config, so `resume=true` refuses a checkpoint written with
other settings and `resume=auto` (the DVC stage) starts fresh instead.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.utilities.exceptions import SIGTERMException
from omegaconf import DictConfig

from mlplab.config.rules import plain
from mlplab.errors import ConfigError

log = logging.getLogger(__name__)

LAST = "last.ckpt"
# In models/ while a fit runs, removed when it finishes: what `resume=auto` continues.
UNFINISHED = ".unfinished"


def config_hash(cfg: DictConfig) -> str:
    """A digest of the resolved config, `resume` itself left out."""
    values = {k: v for k, v in plain(cfg).items() if k != "resume"}
    return hashlib.sha256(json.dumps(values, sort_keys=True, default=str).encode()).hexdigest()


def _rng_states() -> dict[str, Any]:
    """torch, numpy and Python RNG states as tensors and ints (loadable with weights_only)."""
    kind, keys, pos, has_gauss, gauss = np.random.get_state(legacy=True)
    return {
        "torch": torch.get_rng_state(),
        "numpy": [kind, torch.from_numpy(np.asarray(keys, np.int64)), pos, has_gauss, gauss],
        "python": random.getstate(),
    }


def _set_rng_states(states: dict[str, Any]) -> None:
    torch.set_rng_state(states["torch"])
    kind, keys, pos, has_gauss, gauss = states["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, gauss))
    version, internal, gauss_next = states["python"]
    random.setstate((version, tuple(internal), gauss_next))


class ResumeState(L.Callback):
    """Saves the RNG states and the config hash in every checkpoint; restores the RNG states
    when training starts (after Lightning has built its loaders), so a resumed run draws the
    dropout masks the uninterrupted run draws."""

    def __init__(self, config_hash: str, models_dir: Path) -> None:
        self.config_hash = config_hash
        self.marker = Path(models_dir) / UNFINISHED
        self._pending: dict[str, Any] | None = None

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.is_global_zero:
            self.marker.parent.mkdir(parents=True, exist_ok=True)
            self.marker.touch()

    def on_fit_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        # Only a fit that ends normally gets here: a killed or diverged one keeps the mark.
        if trainer.is_global_zero:
            self.marker.unlink(missing_ok=True)

    def state_dict(self) -> dict[str, Any]:
        return {"config_hash": self.config_hash, "rng": _rng_states()}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self._pending = state_dict["rng"]

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self._pending is not None:
            _set_rng_states(self._pending)
            self._pending = None


class AtomicCheckpoint(ModelCheckpoint):
    """Lightning's ModelCheckpoint, each file written beside and renamed: a run killed while
    saving keeps the previous checkpoint whole."""

    def _save_checkpoint(self, trainer: L.Trainer, filepath: str) -> None:
        partial = f"{filepath}.partial"
        super()._save_checkpoint(trainer, partial)
        if trainer.is_global_zero:
            os.replace(partial, filepath)
        self._last_checkpoint_saved = filepath


class LastCheckpoint(AtomicCheckpoint):
    """`models/last.ckpt` every `every_n_epochs` epochs, at the end of fit and when a run is
    stopped; with `every_n_train_steps`, also inside an epoch.

    Saving costs about as much as a small model's epoch, so epochs in between are skipped; the
    epoch-end save still happens whenever training ends there: the last epoch, early stopping,
    SIGTERM, Ctrl-C (`GracefulStop` sets `stop_requested`). A run killed outright (SIGKILL)
    loses at most `every_n_epochs - 1` epochs.

    Lightning's ModelCheckpoint takes either a step or an epoch trigger; a resumable run needs
    both. Mid-epoch saves skip an epoch's last batch: the epoch-end save follows it, after
    validation, and a checkpoint taken before that validation would resume past it.
    """

    def __init__(
        self, every_n_epochs: int, every_n_train_steps: int | None = None, **kwargs: Any
    ) -> None:
        super().__init__(every_n_epochs=1, **kwargs)  # each epoch end reaches _epoch_due
        self._every_n_train_steps = every_n_train_steps or 0
        self.every_n = every_n_epochs
        self.stop_requested = False  # set by GracefulStop: save at this epoch's end

    def _save_checkpoint(self, trainer: L.Trainer, filepath: str) -> None:
        # Flush the loggers' buffers first: a resumed run logs on after what the checkpoint
        # saw, and TensorBoard then holds every earlier point.
        for logger in trainer.loggers:
            logger.save()
        super()._save_checkpoint(trainer, filepath)

    def _epoch_due(self, trainer: L.Trainer) -> bool:
        """Whether this epoch's end is saved: every N-th, and any epoch training ends after."""
        epoch = trainer.current_epoch + 1
        last = trainer.max_epochs is not None and epoch >= trainer.max_epochs
        ending = trainer.should_stop or bool(getattr(trainer, "received_sigterm", False))
        return epoch % self.every_n == 0 or last or ending or self.stop_requested

    def _save_topk_checkpoint(self, trainer: L.Trainer, monitor_candidates: Any) -> None:
        # Lightning calls this for the epoch trigger (every_n_epochs=1 above) and for the
        # step trigger, whose own test ran already; an epoch-end call may be skipped here.
        at_epoch_end = trainer.fit_loop.epoch_loop.batch_progress.is_last_batch
        if at_epoch_end and not self._epoch_due(trainer):
            return
        super()._save_topk_checkpoint(trainer, monitor_candidates)

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        # Training ended at a step no trigger saved (max_steps, limit_train_batches, an epoch
        # without validation): the final weights are always in last.ckpt.
        if not self._should_skip_saving_checkpoint(trainer):
            super()._save_topk_checkpoint(trainer, self._monitor_candidates(trainer))
        super().on_train_end(trainer, pl_module)

    def on_exception(
        self, trainer: L.Trainer, pl_module: L.LightningModule, exception: BaseException
    ) -> None:
        super().on_exception(trainer, pl_module, exception)  # with save_on_exception=true
        # SIGTERM stops between batches or after an epoch, points a run resumes from; any
        # other exception may land mid-step, and last.ckpt keeps the last clean point.
        clean = not trainer.validating and not self._should_skip_saving_checkpoint(trainer)
        if isinstance(exception, SIGTERMException) and clean:
            super()._save_topk_checkpoint(trainer, self._monitor_candidates(trainer))

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, *args: Any, **kwargs: Any
    ) -> None:
        if trainer.fit_loop.epoch_loop.batch_progress.is_last_batch:
            return
        super().on_train_batch_end(trainer, pl_module, *args, **kwargs)


def _saved_hash(path: Path) -> str | None:
    saved = torch.load(path, map_location="cpu", weights_only=True)
    states = saved.get("callbacks", {})
    key = next((k for k in states if k.startswith(ResumeState.__qualname__)), None)
    return None if key is None else states[key]["config_hash"]


def resume_checkpoint(resume: bool | str, run_dir: Path, expected_hash: str) -> Path | None:
    """The checkpoint `resume` names: none (false), the run's last.ckpt (true), or a path.

    `auto` resumes the run's last.ckpt only if its fit never finished (it was killed) and it
    was written with this config, else starts fresh: what the DVC stage uses, whose models/
    survives between runs. A finished run is trained again (`dvc repro -f`, or code changed).
    """
    if resume is False:
        return None
    path = run_dir / "models" / LAST if resume in (True, "auto") else Path(str(resume))
    if resume == "auto":
        if not (path.parent / UNFINISHED).is_file():
            return None
        if path.is_file() and _saved_hash(path) == expected_hash:
            log.info("resuming %s (written with this config)", path)
            return path
        if path.is_file():
            log.info("not resuming %s: written with another config; starting fresh", path)
        return None
    if not path.is_file():
        raise ConfigError(
            f"config key 'resume' is {resume}, but {path} does not exist; run without resume "
            "or set hydra.run.dir to the run to continue"
        )
    if _saved_hash(path) != expected_hash:
        raise ConfigError(
            f"config key 'resume': {path} was written with a different config; resume with "
            "the overrides of that run (only `resume` may differ), or start a new run"
        )
    log.info("resuming %s", path)
    return path
