"""The train recipe: seed, data, model, callbacks, loggers, trainer, fit, test."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import lightning as L
from omegaconf import DictConfig, OmegaConf

from mlplab.data.datamodule import ArrayDataModule
from mlplab.errors import ConfigError
from mlplab.models.module import MLPModule
from mlplab.training.assemble import build_callbacks, build_loggers, build_trainer
from mlplab.training.history import HistoryRecorder

log = logging.getLogger(__name__)

# In-memory batches are one gather each; worker processes would only add start-up time.
warnings.filterwarnings("ignore", message=".*does not have many workers.*")
warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\).*")


def quiet_lightning_logs() -> None:
    """Send Lightning's messages through Hydra's handlers only (once, and into the run log)."""
    lightning_log = logging.getLogger("lightning")
    if logging.getLogger().hasHandlers():
        lightning_log.handlers.clear()
    logging.getLogger("lightning.pytorch.utilities.rank_zero").addFilter(
        lambda record: "litlogger" not in record.getMessage()
    )


# What a checkpoint keeps of meta.json: enough to name outputs without the data at hand, and
# (file sources) the fitted column encoding that src/predict.py replays on new files.
META_KEPT = ("task", "class_names", "target_names", "feature_names", "preprocessing")


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
        target_scaling=data.target_scaling,
        augment=OmegaConf.to_container(data.augment),
    )


def check_token_input(inputs: DictConfig, meta: dict) -> None:
    """An embedding looks token ids up in a table: the data must be token windows (meta
    `vocab_size`, e.g. data=names) from a vocabulary of the table's size."""
    if inputs.kind != "embedding":
        return
    if "vocab_size" not in meta:
        raise ConfigError(
            "config key 'model.input.kind' is 'embedding', but the data holds features, not "
            "token ids; use token data (data=names) or model.input.kind=dense"
        )
    if inputs.vocab_size != meta["vocab_size"]:
        raise ConfigError(
            f"config key 'model.input.vocab_size' is {inputs.vocab_size}, but the data has "
            f"{meta['vocab_size']} tokens"
        )


def build_module(cfg: DictConfig, dm: ArrayDataModule) -> MLPModule:
    from mlplab.models.mlp import spec_from_config
    from mlplab.models.objectives import Objective, check_objective
    from mlplab.models.tasks import make_task

    meta, m = dm.meta, cfg.model
    check_token_input(m.input, meta)
    objective = OmegaConf.to_container(cfg.objective)
    check_objective(meta["task"], Objective(**objective), cfg.data.target_scaling)
    task = make_task(meta["task"], objective)
    model_cfg = OmegaConf.to_container(m)
    spec = spec_from_config(model_cfg, meta["n_features"], task.output_size(meta)).to_dict()
    model = MLPModule(
        spec=spec,
        task=meta["task"],
        meta={k: meta[k] for k in META_KEPT if k in meta},
        optimizer=OmegaConf.to_container(cfg.optimizer),
        scheduler=OmegaConf.to_container(cfg.scheduler),
        split_digest=dm.split.digest(),
        objective=objective,
        regularization=OmegaConf.to_container(cfg.regularization),
    )
    model.set_input_scaling(*dm.scaling_stats())
    if not task.classification:
        model.set_target_scaling(*dm.target_scaling_stats())
    return model


def train(cfg: DictConfig, run_dir: Path) -> dict[str, float]:
    """Train, checkpoint and test one model; return the test metrics."""
    quiet_lightning_logs()
    L.seed_everything(cfg.seed, workers=True, verbose=False)
    dm = build_datamodule(cfg)
    dm.prepare_data()
    dm.setup("fit")
    model = build_module(cfg, dm)
    if cfg.lr_find.apply:
        from mlplab.training.lr_finder import apply_suggestion

        apply_suggestion(cfg, model, dm, run_dir)
    callbacks = build_callbacks(cfg.callbacks, run_dir / "models")
    callbacks.append(
        HistoryRecorder(run_dir / "plots" / "history.csv", run_dir / "metrics" / "train.json")
    )
    loggers = build_loggers(cfg.logger, run_dir / "logs")
    trainer = build_trainer(cfg.trainer, callbacks, loggers)
    trainer.fit(model, datamodule=dm)
    # The first ModelCheckpoint is models/best.ckpt (the second writes last.ckpt).
    best = trainer.checkpoint_callback.best_model_path if trainer.checkpoint_callback else ""
    results = trainer.test(model, datamodule=dm, ckpt_path=best or None, verbose=False)
    return results[0] if results else {}
