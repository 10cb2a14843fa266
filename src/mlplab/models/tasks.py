"""What each task means for the output layer, the loss, metrics, test scores and predictions.

| task       | outputs        | loss                     | predicted, confidence | metrics       |
|------------|----------------|--------------------------|-----------------------|---------------|
| multiclass | one per class  | cross-entropy, smoothing | argmax, its softmax   | acc f1 auroc  |
| binary     | one logit      | BCE with logits          | sigmoid > 0.5, its p  | acc f1 auroc  |
| multilabel | one per label  | BCE per label            | labels with p > 0.5   | + exact_match |
| regression | one per target | MSE, MAE or Huber; bound | the outputs           | mae rmse r2   |

A Task is everything the LightningModule, evaluate and predict know about a task: they call
its methods and never branch on the task's name. The names in `metrics()` are the metric names
everywhere: `val/<name>` and `test/<name>` in TensorBoard, history.csv, metrics/*.json and the
report. A new task is one subclass registered in TASKS.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torchmetrics import MetricCollection
from torchmetrics import classification as C
from torchmetrics import regression as R
from torchmetrics.functional import classification as FC

from mlplab.models.objectives import Objective

BOUND_FUNCTIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "softplus": F.softplus,
}

Columns = dict[str, Any]  # column name -> one value per row (a list or a 1-D array)


@dataclass
class Scores:
    metrics: dict[str, Any]  # test/<name> of every metric, then the task's extra facts
    table: Columns  # plots/predictions.csv: the actual columns, then the predicted ones
    confusion: list[dict[str, str]] = field(default_factory=list)  # one class per row only


class Task(ABC):
    """One task family. `outputs` are in target units (logits for classification, real
    units for regression) everywhere except `loss`, which sees model units."""

    classification = True

    def __init__(self, objective: Objective) -> None:
        self.objective = objective

    def output_size(self, meta: dict[str, Any]) -> int:
        return len(meta["class_names"])

    def head(self, outputs: torch.Tensor) -> torch.Tensor:
        """The output activation applied inside forward (bounded regression only)."""
        return outputs

    @abstractmethod
    def loss(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor: ...

    @abstractmethod
    def metrics(self, meta: dict[str, Any]) -> MetricCollection:
        """The metrics logged as val/<name> and test/<name> and written to metrics/test.json."""

    def metric_inputs(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Outputs shaped as the torchmetrics of this task expect them."""
        return outputs

    @abstractmethod
    def actual(self, targets: torch.Tensor, meta: dict[str, Any]) -> Columns:
        """The targets as plots/predictions.csv shows them."""

    @abstractmethod
    def predictions(self, outputs: torch.Tensor, meta: dict[str, Any]) -> Columns:
        """`predicted` (and `confidence` where there is one), as evaluate and predict write."""

    def extra_scores(
        self, outputs: torch.Tensor, targets: torch.Tensor, meta: dict[str, Any]
    ) -> dict[str, Any]:
        """Test facts beyond the logged metrics (e.g. per-class precision and recall)."""
        return {}

    def confusion(self, table: Columns) -> list[dict[str, str]]:
        """Actual/predicted pairs for DVC's confusion plot; none unless one class per row."""
        return []

    def score(self, outputs: torch.Tensor, targets: torch.Tensor, meta: dict[str, Any]) -> Scores:
        """Test scores with the same metric collection the LightningModule logs as test/."""
        collection = self.metrics(meta).clone(prefix="test/")
        collection.update(self.metric_inputs(outputs, targets), targets)
        metrics = {name: float(value) for name, value in collection.compute().items()}
        metrics.update(self.extra_scores(outputs, targets, meta))
        columns = {**self.actual(targets, meta), **self.predictions(outputs, meta)}
        table = {name: np.asarray(values).tolist() for name, values in columns.items()}
        return Scores(metrics, table, self.confusion(table))


class OneClassPerRow(Task):
    """Multiclass and binary: a class name and its probability per row, a confusion plot."""

    @abstractmethod
    def class_probabilities(self, outputs: torch.Tensor) -> torch.Tensor:
        """[n, classes] probabilities."""

    def actual(self, targets: torch.Tensor, meta: dict[str, Any]) -> Columns:
        return {"actual": [meta["class_names"][t] for t in targets.tolist()]}

    def predictions(self, outputs: torch.Tensor, meta: dict[str, Any]) -> Columns:
        probs = self.class_probabilities(outputs)
        names = np.asarray(meta["class_names"], dtype=object)
        return {
            "predicted": names[probs.argmax(dim=1).numpy()],
            "confidence": probs.max(dim=1).values.numpy(),
        }

    def extra_scores(
        self, outputs: torch.Tensor, targets: torch.Tensor, meta: dict[str, Any]
    ) -> dict[str, Any]:
        probs, n = self.class_probabilities(outputs), len(meta["class_names"])
        precision = FC.multiclass_precision(probs, targets, n, average="none", zero_division=0)
        recall = FC.multiclass_recall(probs, targets, n, average="none", zero_division=0)
        return {"per_class": _per_class(meta["class_names"], precision, recall)}

    def confusion(self, table: Columns) -> list[dict[str, str]]:
        pairs = zip(table["actual"], table["predicted"], strict=True)
        return [{"actual": a, "predicted": p} for a, p in pairs]


class Multiclass(OneClassPerRow):
    def loss(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(outputs, targets, label_smoothing=self.objective.label_smoothing)

    def class_probabilities(self, outputs: torch.Tensor) -> torch.Tensor:
        return outputs.softmax(dim=1)

    def metric_inputs(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        # Probabilities, not logits: torchmetrics softmaxes logits only when some fall
        # outside [0, 1], so logits that all happen to lie inside it would be misread.
        return self.class_probabilities(outputs)

    def metrics(self, meta: dict[str, Any]) -> MetricCollection:
        n = len(meta["class_names"])
        return MetricCollection(
            {
                "acc": C.MulticlassAccuracy(num_classes=n, average="micro"),
                "f1": C.MulticlassF1Score(num_classes=n, average="macro"),
                "auroc": C.MulticlassAUROC(num_classes=n),
            }
        )


class Binary(OneClassPerRow):
    def output_size(self, meta: dict[str, Any]) -> int:
        return 1

    def loss(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return F.binary_cross_entropy_with_logits(outputs.squeeze(1), targets.float())

    def class_probabilities(self, outputs: torch.Tensor) -> torch.Tensor:
        p = outputs.squeeze(1).sigmoid()
        return torch.stack([1 - p, p], dim=1)

    def metric_inputs(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return outputs.squeeze(1).sigmoid()  # P(class 1); see Multiclass.metric_inputs

    def metrics(self, meta: dict[str, Any]) -> MetricCollection:
        # f1 is the F1 of class 1 (the second class name), the usual binary F1.
        return MetricCollection(
            {"acc": C.BinaryAccuracy(), "f1": C.BinaryF1Score(), "auroc": C.BinaryAUROC()},
            compute_groups=False,
        )


class Multilabel(Task):
    def loss(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return F.binary_cross_entropy_with_logits(outputs, targets.float())

    def metric_inputs(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return outputs.sigmoid()  # see Multiclass.metric_inputs

    def metrics(self, meta: dict[str, Any]) -> MetricCollection:
        n = len(meta["class_names"])
        return MetricCollection(
            {
                "acc": C.MultilabelAccuracy(num_labels=n, average="micro"),  # label-wise
                "exact_match": C.MultilabelExactMatch(num_labels=n),  # every label of a row
                "f1": C.MultilabelF1Score(num_labels=n, average="macro"),
                "auroc": C.MultilabelAUROC(num_labels=n),
            }
        )

    def actual(self, targets: torch.Tensor, meta: dict[str, Any]) -> Columns:
        return {"actual": _label_sets(targets.bool(), meta["class_names"])}

    def predictions(self, outputs: torch.Tensor, meta: dict[str, Any]) -> Columns:
        return {"predicted": _label_sets(outputs.sigmoid() > 0.5, meta["class_names"])}

    def extra_scores(
        self, outputs: torch.Tensor, targets: torch.Tensor, meta: dict[str, Any]
    ) -> dict[str, Any]:
        n = len(meta["class_names"])
        precision = FC.multilabel_precision(outputs, targets, n, average="none", zero_division=0)
        recall = FC.multilabel_recall(outputs, targets, n, average="none", zero_division=0)
        return {"per_class": _per_class(meta["class_names"], precision, recall)}


class Regression(Task):
    classification = False

    def output_size(self, meta: dict[str, Any]) -> int:
        return len(meta["target_names"])

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

    def actual(self, targets: torch.Tensor, meta: dict[str, Any]) -> Columns:
        return _per_target("actual", targets.reshape(len(targets), -1).numpy(), meta)

    def predictions(self, outputs: torch.Tensor, meta: dict[str, Any]) -> Columns:
        return _per_target("predicted", outputs.reshape(len(outputs), -1).numpy(), meta)


def _per_target(kind: str, values: np.ndarray, meta: dict[str, Any]) -> Columns:
    """`actual`/`predicted` for one target; `actual_<name>` etc. for several."""
    names = meta["target_names"]
    if len(names) == 1:
        return {kind: values[:, 0]}
    return {f"{kind}_{name}": values[:, i] for i, name in enumerate(names)}


def _label_sets(on: torch.Tensor, names: list[str]) -> list[str]:
    """Each row's labels joined by `;` (empty when none is on)."""
    return [";".join(n for n, o in zip(names, row, strict=True) if o) for row in on.tolist()]


def _per_class(
    names: list[str], precision: torch.Tensor, recall: torch.Tensor
) -> dict[str, dict[str, float]]:
    return {
        name: {"precision": float(p), "recall": float(r)}
        for name, p, r in zip(names, precision, recall, strict=True)
    }


TASKS: dict[str, type[Task]] = {
    "multiclass": Multiclass,
    "binary": Binary,
    "multilabel": Multilabel,
    "regression": Regression,
}


def make_task(name: str, objective: dict[str, Any]) -> Task:
    return TASKS[name](Objective(**objective))
