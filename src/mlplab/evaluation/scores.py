"""Test-split scores per task family, computed with torchmetrics' functional API.

Each function returns (metrics for test.json, per-row columns for predictions.csv[, the
actual/predicted pairs of DVC's confusion plot]).
"""

from __future__ import annotations

from typing import Any

import torch
from torchmetrics.functional import classification as C
from torchmetrics.functional import regression as R

Columns = dict[str, list[Any]]


def classification_scores(
    probs: torch.Tensor, targets: torch.Tensor, meta: dict[str, Any]
) -> tuple[dict[str, Any], Columns, list[dict[str, str]]]:
    """One class per row (multiclass, binary): accuracy, macro-F1, AUROC, per-class P/R."""
    names = list(meta["class_names"])
    n = len(names)
    predicted = probs.argmax(dim=1)
    precision = C.multiclass_precision(probs, targets, n, average="none", zero_division=0)
    recall = C.multiclass_recall(probs, targets, n, average="none", zero_division=0)
    if n == 2:  # AUROC of the positive class's probability
        auroc = C.binary_auroc(probs[:, 1], targets)
    else:
        auroc = C.multiclass_auroc(probs, targets, n)
    metrics = {
        "accuracy": float(C.multiclass_accuracy(probs, targets, n, average="micro")),
        "f1_macro": float(C.multiclass_f1_score(probs, targets, n, average="macro")),
        "auroc": float(auroc),
        "per_class": {
            name: {"precision": float(p), "recall": float(r)}
            for name, p, r in zip(names, precision, recall, strict=True)
        },
    }
    actual = [names[t] for t in targets.tolist()]
    pred = [names[p] for p in predicted.tolist()]
    table = {
        "actual": actual,
        "predicted": pred,
        "confidence": probs.max(dim=1).values.tolist(),
    }
    confusion = [{"actual": a, "predicted": p} for a, p in zip(actual, pred, strict=True)]
    return metrics, table, confusion


def multilabel_scores(
    logits: torch.Tensor, targets: torch.Tensor, meta: dict[str, Any]
) -> tuple[dict[str, Any], Columns]:
    """Several labels per row: label-wise accuracy, macro-F1, AUROC, per-label P/R."""
    names = list(meta["class_names"])
    n = len(names)
    precision = C.multilabel_precision(logits, targets, n, average="none", zero_division=0)
    recall = C.multilabel_recall(logits, targets, n, average="none", zero_division=0)
    predicted = (logits.sigmoid() > 0.5).int()
    metrics = {
        "accuracy": float(C.multilabel_accuracy(logits, targets, n, average="micro")),
        "exact_match": float((predicted == targets).all(dim=1).float().mean()),
        "f1_macro": float(C.multilabel_f1_score(logits, targets, n, average="macro")),
        "auroc": float(C.multilabel_auroc(logits, targets, n)),
        "per_class": {
            name: {"precision": float(p), "recall": float(r)}
            for name, p, r in zip(names, precision, recall, strict=True)
        },
    }

    def label_set(row: torch.Tensor) -> str:
        return ";".join(name for name, on in zip(names, row.tolist(), strict=True) if on)

    table = {
        "actual": [label_set(r) for r in targets],
        "predicted": [label_set(r) for r in predicted],
    }
    return metrics, table


def regression_scores(
    predictions: torch.Tensor, targets: torch.Tensor, meta: dict[str, Any]
) -> tuple[dict[str, Any], Columns]:
    """Errors in the target's own units: MAE, RMSE and R²."""
    predictions = predictions.reshape(targets.shape)
    metrics = {
        "mae": float(R.mean_absolute_error(predictions, targets)),
        "rmse": float(R.mean_squared_error(predictions, targets, squared=False)),
        "r2": float(R.r2_score(predictions, targets)),
    }
    if targets.ndim == 1:
        table = {"actual": targets.tolist(), "predicted": predictions.tolist()}
    else:
        names = meta.get("target_names", [f"y{i}" for i in range(targets.shape[1])])
        table = {}
        for i, name in enumerate(names):
            table[f"actual_{name}"] = targets[:, i].tolist()
            table[f"predicted_{name}"] = predictions[:, i].tolist()
    return metrics, table
