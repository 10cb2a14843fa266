"""The typed shape of the composed config.

The schema is merged onto the composed config at run time rather than registered in Hydra's
ConfigStore: DVC composes `configs/train.yaml` in its own process (`dvc exp run -S`), where
nothing of mlplab is imported, so the YAML files must compose without the schema.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from omegaconf import MISSING


@dataclass
class PathsConfig:
    data_dir: str = "data/prepared"


@dataclass
class SplitConfig:
    train: float = 0.8
    val: float = 0.1
    test: float = 0.1
    seed: int = 0
    stratify: bool = True


@dataclass
class DataConfig:
    name: str = MISSING
    source: dict[str, Any] = field(default_factory=dict)
    split: SplitConfig = field(default_factory=SplitConfig)
    scaling: str = "standard"
    batch_size: int = 64


@dataclass
class InitConfig:
    scheme: str = "auto"
    distribution: str = "normal"
    scale: float = 1.0


@dataclass
class ModelConfig:
    hidden_sizes: list[int] = field(default_factory=lambda: [256, 128])
    activation: str = "relu"
    norm: str = "batchnorm"
    dropout: float = 0.0
    init: InitConfig = field(default_factory=InitConfig)


@dataclass
class SchedulerConfig:
    interval: str = "epoch"
    monitor: str = "val/loss"
    scheduler: Any = None  # a `_target_` + `_partial_` node, or null for a constant LR


@dataclass
class EvaluateConfig:
    checkpoint: str = "models/best.ckpt"
    batch_size: int = 1024


@dataclass
class Config:
    seed: int = 42
    paths: PathsConfig = field(default_factory=PathsConfig)
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    # Nodes handed to hydra.utils.instantiate keep free-form keys: their arguments are checked
    # against the target's signature when it is built.
    optimizer: dict[str, Any] = field(default_factory=dict)
    scheduler: SchedulerConfig = field(default_factory=SchedulerConfig)
    callbacks: dict[str, Any] = field(default_factory=dict)
    logger: dict[str, Any] = field(default_factory=dict)
    trainer: dict[str, Any] = field(default_factory=dict)
    evaluate: EvaluateConfig = field(default_factory=EvaluateConfig)
