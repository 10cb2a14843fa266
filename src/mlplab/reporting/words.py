"""Metric and layer names in words, for titles and tables: `val/acc` -> "Validation accuracy"."""

from __future__ import annotations

STAGES = {"train": "Training", "val": "Validation", "test": "Test"}
METRICS = {
    "loss": "loss",
    "acc": "accuracy",
    "f1": "F1 score",
    "auroc": "AUROC",
    "exact_match": "exact-match ratio",
    "mae": "mean absolute error",
    "rmse": "root-mean-square error",
    "r2": "R²",
    "data_loss": "data loss",
    "l1_penalty": "L1 penalty",
    "l2_penalty": "L2 penalty",
}
# The metric that says how good the model is, by the first one a run logged.
QUALITY = ("acc", "r2", "exact_match", "f1", "mae")


def metric_words(name: str) -> str:
    """`acc` -> "accuracy"; an unknown name stays as it is."""
    return METRICS.get(name, name.replace("_", " "))


def metric_title(key: str) -> str:
    """`val/acc` -> "Validation accuracy"; a key without a stage is its metric in words."""
    stage, _, name = key.rpartition("/")
    words = metric_words(name)
    if stage not in STAGES:
        return words[:1].upper() + words[1:]
    return f"{STAGES[stage]} {words}"


def quality_metric(keys: list[str], stage: str) -> str | None:
    """The run's main quality metric under `stage` (`val/acc`, or `val/r2` for regression)."""
    return next((f"{stage}/{m}" for m in QUALITY if f"{stage}/{m}" in keys), None)
