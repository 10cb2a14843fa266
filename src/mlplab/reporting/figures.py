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
    """Train and validation loss per epoch, and validation accuracy where recorded."""
    has_acc = "val/acc" in history
    fig, axes = plt.subplots(1, 2 if has_acc else 1, figsize=(10 if has_acc else 5.5, 3.8))
    axes = np.atleast_1d(axes)
    for key in ("train/loss", "val/loss"):
        if key in history:
            axes[0].plot(history["epoch"], history[key], label=key)
    axes[0].set(xlabel="epoch", ylabel="loss", title="Loss", yscale="log")
    axes[0].legend()
    if has_acc:
        axes[1].plot(history["epoch"], history["val/acc"], color="tab:green", label="val/acc")
        axes[1].set(xlabel="epoch", ylabel="accuracy", title="Validation accuracy")
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
