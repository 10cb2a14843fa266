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
    """`models/last.ckpt` after every epoch and, with `every_n_train_steps`, also inside one.

    Lightning's ModelCheckpoint takes either a step or an epoch trigger; a resumable run needs
    both. Mid-epoch saves skip an epoch's last batch: the epoch-end save follows it, after
    validation, and a checkpoint taken before that validation would resume past it.
    """

    def __init__(self, *args: Any, every_n_train_steps: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._every_n_train_steps = every_n_train_steps or 0

    def _save_checkpoint(self, trainer: L.Trainer, filepath: str) -> None:
        # Flush the loggers' buffers first: a resumed run logs on after what the checkpoint
        # saw, and TensorBoard then holds every earlier point.
        for logger in trainer.loggers:
            logger.save()
        super()._save_checkpoint(trainer, filepath)

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
