"""The `objective` config node: which loss and output bound a task may use.

Kept free of torch so config validation can check names before torch is imported.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlplab.errors import ConfigError

# Losses each task accepts; `auto` takes the first.
LOSSES: dict[str, tuple[str, ...]] = {
    "multiclass": ("cross_entropy",),
    "binary": ("bce",),
    "multilabel": ("bce",),
    "regression": ("mse", "mae", "huber"),
}
ALL_LOSSES = ("auto", *sorted({name for names in LOSSES.values() for name in names}))
OUTPUT_BOUNDS = ("none", "tanh", "sigmoid", "softplus")


@dataclass(frozen=True)
class Objective:
    """The `objective` config node's values (configs/train.yaml holds them)."""

    loss: str
    label_smoothing: float  # multiclass only
    huber_delta: float  # huber only
    output_bound: str  # regression only: squashes outputs into the target's range

    def loss_for(self, task: str) -> str:
        return LOSSES[task][0] if self.loss == "auto" else self.loss


def check_objective(task: str, objective: Objective, target_scaling: str) -> None:
    """Raise ConfigError for a loss or output bound the dataset's task cannot use."""
    allowed = ("auto", *LOSSES[task])
    if objective.loss not in allowed:
        raise ConfigError(
            f"config key 'objective.loss' is {objective.loss!r}, which a {task} task cannot use; "
            f"allowed values: {', '.join(allowed)}"
        )
    if objective.output_bound != "none" and task == "regression" and target_scaling != "none":
        raise ConfigError(
            f"config key 'objective.output_bound' is {objective.output_bound!r}: a bounded "
            "output needs targets in their own units; set data.target_scaling=none"
        )
