"""The schema and checks of configs/sample.yaml, src/sample.py's own primary config: a
character-level checkpoint in, sampled names out (mlplab/evaluation/sample.py)."""

from __future__ import annotations

from dataclasses import dataclass

from omegaconf import MISSING, DictConfig

from mlplab.config.rules import check_checkpoint_file, is_int, require, typed
from mlplab.errors import ConfigError


@dataclass
class SampleConfig:
    """Types only: the values are configs/sample.yaml's."""

    ckpt_path: str = MISSING
    num_samples: int = MISSING
    seed: int = MISSING
    max_length: int = MISSING
    output: str | None = MISSING


def validate_sample(cfg: DictConfig) -> DictConfig:
    """`cfg` typed by SampleConfig; ConfigError naming the key otherwise."""
    checked = typed(cfg, SampleConfig)
    if not checked.ckpt_path:
        raise ConfigError("config key 'ckpt_path' is empty; give a checkpoint path")
    for key in ("num_samples", "max_length"):
        value = checked[key]
        require(is_int(value) and value >= 1, key, value, "an integer >= 1")
    check_checkpoint_file(checked.ckpt_path, "ckpt_path")
    return checked
