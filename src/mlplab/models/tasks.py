"""What each task means for the output layer, the loss, predictions and metrics.

| task       | outputs      | loss                              | predictions          |
|------------|--------------|-----------------------------------|----------------------|
| multiclass | one per class| cross-entropy (label smoothing)   | argmax               |
| binary     | one logit    | BCE with logits                   | sigmoid > 0.5        |
| multilabel | one per label| BCE with logits per label         | sigmoid > 0.5 each   |
| regression | one per target| MSE, MAE or Huber; bounded output | the outputs          |
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torchmetrics import MetricCollection
from torchmetrics import classification as C
from torchmetrics import regression as R

from mlplab.models.objectives import Objective

BOUND_FUNCTIONS = {"tanh": torch.tanh, "sigmoid": torch.sigmoid, "softplus": F.softplus}


class Task:
    """Shared behaviour; subclasses set the loss, predictions and metrics of one task."""

    classification = True

    def __init__(self, objective: Objective) -> None:
        self.objective = objective

    def output_size(self, meta: dict[str, Any]) -> int:
        return len(meta["class_names"])

    def head(self, outputs: torch.Tensor) -> torch.Tensor:
        """The output activation applied inside forward (bounded regression only)."""
        return outputs

    def class_probabilities(self, outputs: torch.Tensor) -> torch.Tensor:
        """[n, classes] probabilities, for tasks with one class per row."""
        return outputs.softmax(dim=1)

    def metric_inputs(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Outputs shaped as the torchmetrics of this task expect them."""
        return outputs


class Multiclass(Task):
    def loss(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(outputs, targets, label_smoothing=self.objective.label_smoothing)

    def metrics(self, meta: dict[str, Any]) -> MetricCollection:
        n = len(meta["class_names"])
        return MetricCollection(
            {
                "acc": C.MulticlassAccuracy(num_classes=n, average="micro"),
                "f1": C.MulticlassF1Score(num_classes=n, average="macro"),
                "auroc": C.MulticlassAUROC(num_classes=n),
            }
        )


class Binary(Task):
    def output_size(self, meta: dict[str, Any]) -> int:
        return 1

    def loss(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return F.binary_cross_entropy_with_logits(outputs.squeeze(1), targets.float())

    def class_probabilities(self, outputs: torch.Tensor) -> torch.Tensor:
        p = outputs.squeeze(1).sigmoid()
        return torch.stack([1 - p, p], dim=1)

    def metric_inputs(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return outputs.squeeze(1)  # logits: the binary metrics apply the sigmoid themselves

    def metrics(self, meta: dict[str, Any]) -> MetricCollection:
        return MetricCollection(
            {"acc": C.BinaryAccuracy(), "f1": C.BinaryF1Score(), "auroc": C.BinaryAUROC()},
            compute_groups=False,
        )


class Multilabel(Task):
    def loss(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return F.binary_cross_entropy_with_logits(outputs, targets.float())

    def metrics(self, meta: dict[str, Any]) -> MetricCollection:
        n = len(meta["class_names"])
        return MetricCollection(
            {
                "acc": C.MultilabelAccuracy(num_labels=n, average="micro"),
                "f1": C.MultilabelF1Score(num_labels=n, average="macro"),
                "auroc": C.MultilabelAUROC(num_labels=n),
            }
        )


class Regression(Task):
    classification = False

    def output_size(self, meta: dict[str, Any]) -> int:
        return len(meta.get("target_names", ["y"]))

    def head(self, outputs: torch.Tensor) -> torch.Tensor:
        bound = self.objective.output_bound
        return outputs if bound == "none" else BOUND_FUNCTIONS[bound](outputs)

    def metric_inputs(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return outputs.reshape(targets.shape)

    def loss(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        outputs = outputs.reshape(targets.shape)
        name = self.objective.loss_for("regression")
        if name == "mae":
            return F.l1_loss(outputs, targets)
        if name == "huber":
            return F.huber_loss(outputs, targets, delta=self.objective.huber_delta)
        return F.mse_loss(outputs, targets)

    def metrics(self, meta: dict[str, Any]) -> MetricCollection:
        return MetricCollection(
            {
                "mae": R.MeanAbsoluteError(),
                "rmse": R.MeanSquaredError(squared=False),
                "r2": R.R2Score(),
            }
        )


TASKS: dict[str, type[Task]] = {
    "multiclass": Multiclass,
    "binary": Binary,
    "multilabel": Multilabel,
    "regression": Regression,
}


def make_task(name: str, objective: dict[str, Any] | None = None) -> Task:
    return TASKS[name](Objective(**(objective or {})))
