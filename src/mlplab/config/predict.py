"""The schema and checks of configs/predict.yaml, src/predict.py's own primary config.

Predict needs no training config: everything about the model and its input columns comes
from the checkpoint.
"""

from __future__ import annotations

from dataclasses import dataclass

from omegaconf import MISSING, DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from mlplab.config.validate import _describe
from mlplab.errors import ConfigError


@dataclass
class PredictConfig:
    ckpt_path: str = "models/best.ckpt"
    input: str = MISSING  # a CSV or Parquet file (.parquet, .pq) with the feature columns
    output: str = "predictions.csv"  # CSV, or Parquet when it ends in .parquet/.pq
    batch_size: int = 1024  # inference batch; does not change the numbers


def validate_predict(cfg: DictConfig) -> DictConfig:
    """`cfg` typed by PredictConfig; ConfigError naming the key otherwise."""
    plain = {k: v for k, v in cfg.items() if k != "hydra"}
    try:
        typed = OmegaConf.merge(OmegaConf.structured(PredictConfig), plain)
        OmegaConf.to_container(typed, throw_on_missing=True)
    except OmegaConfBaseException as err:
        raise ConfigError(_describe(err)) from None
    for key in ("ckpt_path", "input", "output"):
        if not typed[key]:
            raise ConfigError(f"config key '{key}' is empty; give a file path")
    if typed.batch_size < 1:
        raise ConfigError(f"config key 'batch_size' is {typed.batch_size}; it must be >= 1")
    return typed
