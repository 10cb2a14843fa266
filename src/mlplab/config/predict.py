"""The schema and checks of configs/predict.yaml, src/predict.py's own primary config.

Predict needs no training config: everything about the model and its input columns comes
from the checkpoint.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from omegaconf import MISSING, DictConfig

from mlplab.config.rules import check_checkpoint_file, require, typed
from mlplab.errors import ConfigError, DataError


@dataclass
class PredictConfig:
    """Types only: the values are configs/predict.yaml's."""

    ckpt_path: str = MISSING
    input: str = MISSING
    output: str = MISSING
    batch_size: int = MISSING


def validate_predict(cfg: DictConfig) -> DictConfig:
    """`cfg` typed by PredictConfig; ConfigError naming the key otherwise."""
    checked = typed(cfg, PredictConfig)
    for key in ("ckpt_path", "input", "output"):
        if not checked[key]:
            raise ConfigError(f"config key '{key}' is empty; give a file path")
    require(checked.batch_size >= 1, "batch_size", checked.batch_size, "an integer >= 1")
    if not Path(checked.input).is_file():
        raise DataError(f"input {checked.input} does not exist (input=PATH: a CSV or Parquet file)")
    check_checkpoint_file(checked.ckpt_path, "ckpt_path")
    return checked
