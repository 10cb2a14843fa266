"""A run's set-up, written once: seed, prepared data and split, the model to train.

train(), the LR range test and the tests all start from `setup_run`, so they train the same
model on the same rows.
"""

from __future__ import annotations

import logging
import warnings

import lightning as L
import torch
from omegaconf import DictConfig

from mlplab.config.rules import plain
from mlplab.data.datamodule import ArrayDataModule
from mlplab.models.checks import check_input_matches_data
from mlplab.models.mlp import spec_from_config
from mlplab.models.module import MLPModule
from mlplab.models.objectives import Objective, check_objective
from mlplab.models.tasks import make_task

# In-memory batches are one gather each; worker processes would only add start-up time.
warnings.filterwarnings("ignore", message=".*does not have many workers.*")
warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\).*")

# What a checkpoint keeps of meta.json: enough to name outputs without the data at hand, and
# (file sources) the fitted column encoding that src/predict.py replays on new files.
META_KEPT = ("task", "class_names", "target_names", "feature_names", "preprocessing")


def quiet_lightning_logs() -> None:
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
        source=plain(data.source),
        split=plain(data.split),
        scaling=data.scaling,
        batch_size=data.batch_size,
        seed=cfg.seed,
        target_scaling=data.target_scaling,
        augment=plain(data.augment),
    )


def build_module(cfg: DictConfig, dm: ArrayDataModule) -> MLPModule:
    """The LightningModule for `cfg`, shaped by the data and scaled on its train split."""
    meta = dm.meta
    model_cfg = plain(cfg.model)
    check_input_matches_data(model_cfg["input"], meta)
    objective = plain(cfg.objective)
    check_objective(meta["task"], Objective(**objective), cfg.data.target_scaling)
    task = make_task(meta["task"], objective)
    spec = spec_from_config(model_cfg, meta["n_features"], task.output_size(meta)).to_dict()
    model = MLPModule(
        spec=spec,
        task=meta["task"],
        meta={k: meta[k] for k in META_KEPT if k in meta},
        optimizer=plain(cfg.optimizer),
        scheduler=plain(cfg.scheduler),
        split_digest=dm.split.digest(),
        objective=objective,
        regularization=plain(cfg.regularization),
    )
    model.set_input_scaling(*dm.scaling_stats())
    if not task.classification:
        model.set_target_scaling(*dm.target_scaling_stats())
    return model


def apply_runtime(runtime: DictConfig) -> None:
    """The process-wide speed switches of `runtime` (configs/train.yaml)."""
    if runtime.threads is not None:
        torch.set_num_threads(runtime.threads)
    torch.set_float32_matmul_precision(runtime.matmul_precision)


def setup_run(cfg: DictConfig) -> tuple[ArrayDataModule, MLPModule]:
    """Seed every generator from `cfg.seed`, prepare and split the data, build the model."""
    quiet_lightning_logs()
    apply_runtime(cfg.runtime)
    L.seed_everything(cfg.seed, workers=True, verbose=False)
    dm = build_datamodule(cfg)
    dm.prepare_data()
    dm.setup("fit")
    model = build_module(cfg, dm)
    if cfg.runtime.compile:  # in place: the state_dict keys, so checkpoints, stay the same
        model.net.compile()
    return dm, model
