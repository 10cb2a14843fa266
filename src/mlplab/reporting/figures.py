"""Matplotlib figures of a run, saved as PNG without timestamps so reruns give equal bytes."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from mlplab.atomic import atomic_path  # noqa: E402

History = dict[str, list[float]]


def _save(fig: plt.Figure, path: Path) -> Path:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return path


def learning_curves(history: History, path: Path) -> Path:
    """Train and validation loss per epoch, beside validation accuracy (or R² for regression)."""
    quality = next((k for k in ("val/acc", "val/r2") if k in history), None)
    fig, axes = plt.subplots(1, 2 if quality else 1, figsize=(10 if quality else 5.5, 3.8))
    axes = np.atleast_1d(axes)
    for key in ("train/loss", "val/loss"):
        if key in history:
            axes[0].plot(history["epoch"], history[key], label=key)
    axes[0].set(xlabel="epoch", ylabel="loss", title="Loss", yscale="log")
    axes[0].legend()
    if quality:
        name = quality.removeprefix("val/")
        axes[1].plot(history["epoch"], history[quality], color="tab:green", label=quality)
        axes[1].set(xlabel="epoch", ylabel=name, title=f"Validation {name}")
        axes[1].legend()
    for ax in axes:
        ax.grid(alpha=0.3)
    return _save(fig, path)


def lr_curve(history: History, path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(5.5, 3.5))
    ax.plot(history["epoch"], history["lr"], color="tab:purple")
    ax.set(xlabel="epoch", ylabel="learning rate", title="Learning-rate schedule")
    ax.grid(alpha=0.3)
    return _save(fig, path)


def predicted_vs_actual(predictions: dict[str, list[float]], path: Path) -> Path:
    """Regression: each test row's prediction against its target, with the identity line."""
    actual, predicted = predictions["actual"], predictions["predicted"]
    fig, ax = plt.subplots(figsize=(4.8, 4.5))
    ax.scatter(actual, predicted, s=12, alpha=0.7)
    lo, hi = min(actual + predicted), max(actual + predicted)
    ax.plot([lo, hi], [lo, hi], color="grey", linestyle="--", linewidth=1)
    ax.set(xlabel="actual", ylabel="predicted", title="Test predictions")
    ax.grid(alpha=0.3)
    return _save(fig, path)


def confusion_matrix(counts: np.ndarray, class_names: Sequence[str], path: Path) -> Path:
    """Counts with actual classes as rows, predicted as columns."""
    size = max(4.0, 0.5 * len(class_names) + 2)
    fig, ax = plt.subplots(figsize=(size, size * 0.85))
    image = ax.imshow(counts, cmap="Blues")
    ax.set(
        xticks=range(len(class_names)),
        yticks=range(len(class_names)),
        xticklabels=class_names,
        yticklabels=class_names,
        xlabel="predicted",
        ylabel="actual",
        title="Confusion matrix (test split)",
    )
    threshold = counts.max() / 2 if counts.size else 0
    for (i, j), count in np.ndenumerate(counts):
        ax.text(
            j,
            i,
            str(count),
            ha="center",
            va="center",
            color="white" if count > threshold else "black",
            fontsize=8,
        )
    fig.colorbar(image, ax=ax, fraction=0.046)
    return _save(fig, path)
