"""The train recipe: seed, data, model, callbacks, loggers, trainer, fit, test."""

from __future__ import annotations

from pathlib import Path

from lightning.pytorch.callbacks import ModelCheckpoint
from omegaconf import DictConfig

from mlplab.training.assemble import build_callbacks, build_loggers, build_trainer
from mlplab.training.history import HistoryRecorder
from mlplab.training.setup import setup_run


def train(cfg: DictConfig, run_dir: Path) -> dict[str, float]:
    """Train, checkpoint and test one model; return the test metrics."""
    dm, model = setup_run(cfg)
    if cfg.lr_find.apply:
        from mlplab.training.lr_finder import apply_suggestion  # matplotlib: only when asked

        apply_suggestion(cfg, model, dm, run_dir)
    callbacks = build_callbacks(cfg.callbacks, run_dir / "models")
    callbacks.append(
        HistoryRecorder(run_dir / "plots" / "history.csv", run_dir / "metrics" / "train.json")
    )
    loggers = build_loggers(cfg.logger, run_dir / "logs")
    trainer = build_trainer(cfg.trainer, callbacks, loggers)
    trainer.fit(model, datamodule=dm)
    # The first ModelCheckpoint is models/best.ckpt (the second writes last.ckpt).
    checkpoint = trainer.checkpoint_callback
    best = checkpoint.best_model_path if isinstance(checkpoint, ModelCheckpoint) else ""
    results = trainer.test(model, datamodule=dm, ckpt_path=best or None, verbose=False)
    return dict(results[0]) if results else {}
