"""What each task means for the output layer, the loss, predictions and metrics."""

from __future__ import annotations

from typing import Any, Protocol

import torch
import torch.nn.functional as F
from torchmetrics import MetricCollection
from torchmetrics.classification import MulticlassAccuracy, MulticlassF1Score


class Task(Protocol):
    def output_size(self, meta: dict[str, Any]) -> int: ...

    def loss(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor: ...

    def metrics(self, meta: dict[str, Any]) -> MetricCollection: ...


class Multiclass:
    """One logit per class, softmax cross-entropy; accuracy (micro) and macro-F1."""

    def output_size(self, meta: dict[str, Any]) -> int:
        return len(meta["class_names"])

    def loss(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(outputs, targets)

    def metrics(self, meta: dict[str, Any]) -> MetricCollection:
        n = len(meta["class_names"])
        return MetricCollection(
            {
                "acc": MulticlassAccuracy(num_classes=n, average="micro"),
                "f1": MulticlassF1Score(num_classes=n, average="macro"),
            }
        )


TASKS: dict[str, Task] = {"multiclass": Multiclass()}
