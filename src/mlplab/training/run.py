"""The train recipe: seed, data, model, callbacks, loggers, trainer, fit, test."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import lightning as L
from omegaconf import DictConfig, OmegaConf

from mlplab.data.datamodule import ArrayDataModule
from mlplab.models.module import MLPModule
from mlplab.training.assemble import build_callbacks, build_loggers, build_trainer
from mlplab.training.history import HistoryRecorder

log = logging.getLogger(__name__)

# In-memory batches are one gather each; worker processes would only add start-up time.
warnings.filterwarnings("ignore", message=".*does not have many workers.*")
warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\).*")


def _quiet_lightning_logs() -> None:
    """Send Lightning's messages through Hydra's handlers only (once, and into the run log)."""
    lightning_log = logging.getLogger("lightning")
    if logging.getLogger().hasHandlers():
        lightning_log.handlers.clear()
    logging.getLogger("lightning.pytorch.utilities.rank_zero").addFilter(
        lambda record: "litlogger" not in record.getMessage()
    )


def build_datamodule(cfg: DictConfig) -> ArrayDataModule:
    data = cfg.data
    return ArrayDataModule(
        data_dir=cfg.paths.data_dir,
        name=data.name,
        source=OmegaConf.to_container(data.source),
        split=OmegaConf.to_container(data.split),
        scaling=data.scaling,
        batch_size=data.batch_size,
        seed=cfg.seed,
    )


def build_module(cfg: DictConfig, dm: ArrayDataModule) -> MLPModule:
    from mlplab.models.tasks import TASKS

    meta, m = dm.meta, cfg.model
    task = TASKS[meta["task"]]
    spec = {
        "in_features": meta["n_features"],
        "out_features": task.output_size(meta),
        "hidden_sizes": list(m.hidden_sizes),
        "activation": m.activation,
        "norm": m.norm,
        "dropout": m.dropout,
        "init_scheme": m.init.scheme,
        "init_distribution": m.init.distribution,
        "init_scale": m.init.scale,
    }
    model = MLPModule(
        spec=spec,
        task=meta["task"],
        meta={k: meta[k] for k in ("task", "class_names", "feature_names") if k in meta},
        optimizer=OmegaConf.to_container(cfg.optimizer),
        scheduler=OmegaConf.to_container(cfg.scheduler),
        split_digest=dm.split.digest(),
    )
    model.set_input_scaling(*dm.scaling_stats())
    return model


def train(cfg: DictConfig, run_dir: Path) -> dict[str, float]:
    """Train, checkpoint and test one model; return the test metrics."""
    _quiet_lightning_logs()
    L.seed_everything(cfg.seed, workers=True, verbose=False)
    dm = build_datamodule(cfg)
    dm.prepare_data()
    dm.setup("fit")
    model = build_module(cfg, dm)
    callbacks = build_callbacks(cfg.callbacks, run_dir / "models")
    callbacks.append(
        HistoryRecorder(run_dir / "plots" / "history.csv", run_dir / "metrics" / "train.json")
    )
    loggers = build_loggers(cfg.logger, run_dir / "logs")
    trainer = build_trainer(cfg.trainer, callbacks, loggers)
    trainer.fit(model, datamodule=dm)
    has_best = (
        trainer.checkpoint_callback is not None and trainer.checkpoint_callback.best_model_path
    )
    results = trainer.test(
        model, datamodule=dm, ckpt_path="best" if has_best else None, verbose=False
    )
    return results[0] if results else {}
