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
class AugmentConfig:
    noise_std: float = 0.0
    mixup_alpha: float = 0.0


@dataclass
class DataConfig:
    name: str = MISSING
    source: dict[str, Any] = field(default_factory=dict)
    split: SplitConfig = field(default_factory=SplitConfig)
    scaling: str = "standard"
    target_scaling: str = "standard"
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    batch_size: int = 64


@dataclass
class InitConfig:
    scheme: str = "auto"
    distribution: str = "normal"
    mode: str | None = None  # null: the scheme's own fan
    scale: float = 1.0
    value: float = 0.0
    std: float = 0.01
    a: float = 0.05


@dataclass
class InputConfig:
    kind: str = "dense"
    vocab_size: int | None = None
    context_length: int | None = None
    embedding_dim: int | None = None


@dataclass
class ModelConfig:
    input: InputConfig = field(default_factory=InputConfig)
    hidden_sizes: list[int] = field(default_factory=lambda: [256, 128])
    activation: str = "relu"
    activation_args: dict[str, Any] = field(default_factory=dict)
    norm: str = "batchnorm"
    norm_position: str = "before"
    # One probability, or a list with one per hidden layer: OmegaConf has no float-or-list type.
    dropout: Any = 0.0
    dropout_type: str = "auto"
    init: InitConfig = field(default_factory=InitConfig)


@dataclass
class ObjectiveConfig:
    loss: str = "auto"
    label_smoothing: float = 0.0
    huber_delta: float = 1.0
    output_bound: str = "none"


@dataclass
class SchedulerConfig:
    interval: str = "epoch"
    monitor: str = "val/loss"
    scheduler: Any = None  # a `_target_` + `_partial_` node, or null for a constant LR


@dataclass
class RegularizationConfig:
    l1: float = 0.0  # l1 * sum|w| over weight matrices, added to the training loss
    l2: float = 0.0  # l2 * sum(w^2) over weight matrices, added to the training loss


@dataclass
class LRFindConfig:
    apply: bool = False  # run the LR range test before training and train with its suggestion
    min_lr: float = 1e-6
    max_lr: float = 1.0
    num_training: int = 100
    mode: str = "exponential"
    early_stop_threshold: float | None = 4.0


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
    objective: ObjectiveConfig = field(default_factory=ObjectiveConfig)
    # Nodes handed to hydra.utils.instantiate keep free-form keys: their arguments are checked
    # against the target's signature when it is built.
    optimizer: dict[str, Any] = field(default_factory=dict)
    scheduler: SchedulerConfig = field(default_factory=SchedulerConfig)
    regularization: RegularizationConfig = field(default_factory=RegularizationConfig)
    lr_find: LRFindConfig = field(default_factory=LRFindConfig)
    callbacks: dict[str, Any] = field(default_factory=dict)
    logger: dict[str, Any] = field(default_factory=dict)
    trainer: dict[str, Any] = field(default_factory=dict)
    evaluate: EvaluateConfig = field(default_factory=EvaluateConfig)
