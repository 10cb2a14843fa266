"""The train recipe: seed, data, model, callbacks, loggers, trainer, fit, test."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from lightning.pytorch import Callback
from lightning.pytorch.utilities.exceptions import SIGTERMException
from omegaconf import DictConfig

from mlplab.config.rules import plain
from mlplab.training import batched
from mlplab.training.assemble import build_callbacks, build_loggers, build_trainer
from mlplab.training.history import HistoryRecorder
from mlplab.training.interrupt import GracefulStop
from mlplab.training.naming import run_name, tensorboard_dir
from mlplab.training.provenance import Provenance
from mlplab.training.resume import ResumeState, config_hash, resume_checkpoint
from mlplab.training.setup import setup_run
from mlplab.training.tensorboard import RunTensorBoard, flat_hparams


def train(
    cfg: DictConfig, run_dir: Path, extra_callbacks: Sequence[Callback] = ()
) -> dict[str, float]:
    """Train, checkpoint and test one model; return the test metrics. Ctrl-C raises
    `Interrupted` once models/last.ckpt is written (training/interrupt.py). In a sweep, a run
    that shares a stacked network with others is trained by its group (training/batched.py).
    `extra_callbacks` join the configured ones (a search trial's pruning callback); a run
    trained by the stacked loop takes none."""
    grouped = batched.take(cfg, run_dir)
    if grouped is None and cfg.runtime.engine == "stacked":  # a group of one
        from mlplab.training.group import train_group

        train_group([(cfg, run_dir)])
        grouped = batched.take(cfg, run_dir)
    if grouped is not None:
        return grouped.result()
    with GracefulStop(run_dir / "models") as stop:
        try:
            return _train(cfg, run_dir, stop, extra_callbacks)
        except SIGTERMException:  # Lightning's SIGTERM stop is a SystemExit with code 0
            raise stop.interrupted("SIGTERM") from None


def _train(
    cfg: DictConfig, run_dir: Path, stop: GracefulStop, extra_callbacks: Sequence[Callback]
) -> dict[str, float]:
    digest = config_hash(cfg)
    resume_from = resume_checkpoint(cfg.resume, run_dir, digest)  # None: a fresh run
    dm, model = setup_run(cfg)
    if cfg.lr_find.apply:
        from mlplab.training.lr_finder import apply_suggestion  # matplotlib: only when asked

        apply_suggestion(cfg, model, dm, run_dir)
    stop.check()
    callbacks = build_callbacks(cfg.callbacks, run_dir / "models")
    # evaluate.weights picks the tested checkpoint: models/best.ckpt or models/last.ckpt.
    tested = run_dir / "models" / f"{cfg.evaluate.weights}.ckpt"
    summary_file = run_dir / "metrics" / "train.json"
    callbacks.append(HistoryRecorder(run_dir / "plots" / "history.csv", summary_file, tested))
    callbacks.append(ResumeState(digest, run_dir / "models"))
    callbacks.append(Provenance(cfg, run_dir))  # environment, config, command: in every checkpoint
    callbacks.extend(extra_callbacks)
    callbacks.append(stop)  # last: its mid-epoch checkpoint sees every other callback's step
    # A resumed run appends to its TensorBoard curves; a fresh one clears old events there.
    hparams = flat_hparams(plain(cfg), run_name(run_dir))
    events = tensorboard_dir(run_dir)
    loggers = build_loggers(cfg.logger, run_dir, events, hparams, fresh=resume_from is None)
    trainer = build_trainer(cfg.trainer, callbacks, loggers, run_dir)
    trainer.fit(model, datamodule=dm, ckpt_path=resume_from)
    stop.check()
    # Without that checkpoint (its ModelCheckpoint disabled), the final weights in memory.
    ckpt_path = str(tested) if tested.is_file() else None
    results = trainer.test(model, datamodule=dm, ckpt_path=ckpt_path, verbose=False)
    stop.check()
    test = dict(results[0]) if results else {}
    # HParams columns: the best epoch's val metrics beside the test metrics logged by test.
    best = json.loads(summary_file.read_text()).get("best", {}) if summary_file.is_file() else {}
    finals = {f"best/{k}": v for k, v in best.items() if k.startswith("val/") and v is not None}
    for logger in loggers:
        if isinstance(logger, RunTensorBoard):
            logger.log_results(finals, trainer.global_step)
    return test
