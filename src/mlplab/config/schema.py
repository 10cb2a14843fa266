"""The typed shape of the composed config: types only, never values.

Every value, defaults included, lives in configs/*.yaml; a key the YAML leaves out is MISSING
here and fails validation, so a default cannot hide in two places.

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
    data_dir: str = MISSING


@dataclass
class SplitConfig:
    train: float = MISSING
    val: float = MISSING
    test: float = MISSING
    seed: int = MISSING
    stratify: bool = MISSING


@dataclass
class AugmentConfig:
    noise_std: float = MISSING
    mixup_alpha: float = MISSING


@dataclass
class DataConfig:
    name: str = MISSING
    source: dict[str, Any] = MISSING
    split: SplitConfig = field(default_factory=SplitConfig)
    scaling: str = MISSING
    target_scaling: str = MISSING
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    batch_size: int = MISSING


@dataclass
class InitConfig:
    scheme: str = MISSING
    distribution: str = MISSING
    mode: str | None = MISSING  # null: the scheme's own fan
    scale: float = MISSING
    value: float = MISSING
    std: float = MISSING
    a: float = MISSING


@dataclass
class InputConfig:
    kind: str = MISSING
    vocab_size: int | None = MISSING
    context_length: int | None = MISSING
    embedding_dim: int | None = MISSING


@dataclass
class ModelConfig:
    input: InputConfig = field(default_factory=InputConfig)
    hidden_sizes: list[int] = MISSING
    activation: str = MISSING
    activation_args: dict[str, Any] = MISSING
    norm: str = MISSING
    norm_position: str = MISSING
    # One probability, or a list with one per hidden layer: OmegaConf has no float-or-list type.
    dropout: Any = MISSING
    dropout_type: str = MISSING
    init: InitConfig = field(default_factory=InitConfig)


@dataclass
class ObjectiveConfig:
    loss: str = MISSING
    label_smoothing: float = MISSING
    huber_delta: float = MISSING
    output_bound: str = MISSING


@dataclass
class SchedulerConfig:
    interval: str = MISSING
    monitor: str = MISSING
    scheduler: Any = MISSING  # a `_target_` + `_partial_` node, or null for a constant LR


@dataclass
class RegularizationConfig:
    l1: float = MISSING  # l1 * sum|w| over weight matrices, added to the training loss
    l2: float = MISSING  # l2 * sum(w^2) over weight matrices, added to the training loss


@dataclass
class LRFindConfig:
    apply: bool = MISSING  # run the LR range test before training and train with its suggestion
    min_lr: float = MISSING
    max_lr: float = MISSING
    num_training: int = MISSING
    mode: str = MISSING
    early_stop_threshold: float | None = MISSING


@dataclass
class EvaluateConfig:
    weights: str = MISSING
    checkpoint: str = MISSING
    batch_size: int = MISSING


@dataclass
class RuntimeConfig:
    threads: int | None = MISSING  # null: torch's default
    matmul_precision: str = MISSING
    compile: bool = MISSING
    engine: str = MISSING


@dataclass
class Config:
    seed: int = MISSING
    resume: Any = MISSING  # false, true, auto or a checkpoint path (training/checks.py)
    paths: PathsConfig = field(default_factory=PathsConfig)
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    objective: ObjectiveConfig = field(default_factory=ObjectiveConfig)
    # Nodes handed to hydra.utils.instantiate keep free-form keys: their arguments are checked
    # against the target's signature when it is built.
    optimizer: dict[str, Any] = MISSING
    scheduler: SchedulerConfig = field(default_factory=SchedulerConfig)
    regularization: RegularizationConfig = field(default_factory=RegularizationConfig)
    lr_find: LRFindConfig = field(default_factory=LRFindConfig)
    callbacks: dict[str, Any] = MISSING
    logger: dict[str, Any] = MISSING
    trainer: dict[str, Any] = MISSING
    evaluate: EvaluateConfig = field(default_factory=EvaluateConfig)
    runtime: RuntimeConfig = field(default_factory=RuntimeConfig)
