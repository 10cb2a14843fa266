"""The train recipe: seed, data, model, callbacks, loggers, trainer, fit, test."""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig

from mlplab.training.assemble import build_callbacks, build_loggers, build_trainer
from mlplab.training.history import HistoryRecorder
from mlplab.training.provenance import Provenance
from mlplab.training.resume import ResumeState, config_hash, resume_checkpoint
from mlplab.training.setup import setup_run


def train(cfg: DictConfig, run_dir: Path) -> dict[str, float]:
    """Train, checkpoint and test one model; return the test metrics."""
    digest = config_hash(cfg)
    resume_from = resume_checkpoint(cfg.resume, run_dir, digest)  # None: a fresh run
    dm, model = setup_run(cfg)
    if cfg.lr_find.apply:
        from mlplab.training.lr_finder import apply_suggestion  # matplotlib: only when asked

        apply_suggestion(cfg, model, dm, run_dir)
    callbacks = build_callbacks(cfg.callbacks, run_dir / "models")
    # evaluate.weights picks the tested checkpoint: models/best.ckpt or models/last.ckpt.
    tested = run_dir / "models" / f"{cfg.evaluate.weights}.ckpt"
    callbacks.append(
        HistoryRecorder(
            run_dir / "plots" / "history.csv", run_dir / "metrics" / "train.json", tested
        )
    )
    callbacks.append(ResumeState(digest, run_dir / "models"))
    callbacks.append(Provenance(cfg))  # environment, config, command: in every checkpoint
    # Continuing this run directory's own checkpoint: log on in its version_N.
    same_run = resume_from is not None and cfg.resume in (True, "auto")
    loggers = build_loggers(cfg.logger, run_dir / "logs", continue_versions=same_run)
    trainer = build_trainer(cfg.trainer, callbacks, loggers, default_root_dir=str(run_dir))
    trainer.fit(model, datamodule=dm, ckpt_path=resume_from)
    # Without that checkpoint (its ModelCheckpoint disabled), the final weights in memory.
    ckpt_path = str(tested) if tested.is_file() else None
    results = trainer.test(model, datamodule=dm, ckpt_path=ckpt_path, verbose=False)
    return dict(results[0]) if results else {}
