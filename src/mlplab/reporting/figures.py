"""Matplotlib figures of a run, saved as PNG without timestamps so reruns give equal bytes."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import FuncFormatter, MaxNLocator  # noqa: E402

from mlplab.atomic import atomic_path  # noqa: E402
from mlplab.reporting.words import metric_title, metric_words  # noqa: E402

History = dict[str, list[float]]


def save(fig: plt.Figure, path: Path) -> Path:
    """PNG with no `Software` or date entry: a re-run writes identical bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return path


def _finite(values: Sequence[float]) -> bool:
    return any(math.isfinite(v) for v in values)


def learning_curves(
    history: History, quality: str | None, best_epoch: int | None, path: Path
) -> Path:
    """Training and validation loss per epoch, beside the validation quality metric; a dotted
    line marks the best epoch (lowest val/loss)."""
    fig, axes = plt.subplots(1, 2 if quality else 1, figsize=(10 if quality else 5.5, 3.8))
    axes = np.atleast_1d(axes)
    for key in ("train/loss", "val/loss"):
        if key in history and _finite(history[key]):
            axes[0].plot(history["epoch"], history[key], marker=".", label=metric_title(key))
    losses = [v for k in ("train/loss", "val/loss") for v in history.get(k, []) if math.isfinite(v)]
    axes[0].set(xlabel="epoch", ylabel="loss (mean per example)", title="Loss")
    if losses and min(losses) > 0 and max(losses) > 10 * min(losses):  # a decade or more
        axes[0].set_yscale("log")
        axes[0].yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    if quality:
        title = metric_title(quality)
        axes[1].plot(history["epoch"], history[quality], marker=".", color="tab:green", label=title)
        axes[1].set(xlabel="epoch", ylabel=metric_words(quality.split("/")[-1]), title=title)
    for ax in axes:
        if best_epoch is not None:
            ax.axvline(best_epoch, color="grey", linestyle=":", linewidth=1, label="best epoch")
        ax.legend()
        ax.grid(alpha=0.3)
        ax.xaxis.get_major_locator().set_params(integer=True)
    return save(fig, path)


def learning_rate(x: list[float], series: dict[str, list[float]], x_label: str, path: Path) -> Path:
    """The learning rate against optimizer steps (or epochs), one line per parameter group."""
    fig, ax = plt.subplots(figsize=(6.5, 3.5))
    many = len(series) > 1
    for label, values in series.items():
        ax.plot(x, values, label=label, marker="." if len(x) < 50 else None)
    ax.set(xlabel=x_label, ylabel="learning rate", title="Learning rate")
    if many:
        ax.legend()
    ax.ticklabel_format(axis="y", style="sci", scilimits=(-3, 3))
    ax.grid(alpha=0.3)
    return save(fig, path)


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
        xlabel="predicted class",
        ylabel="actual class",
        title="Confusion matrix (test split)",
    )
    threshold = counts.max() / 2 if counts.size else 0
    for (i, j), count in np.ndenumerate(counts):
        color = "white" if count > threshold else "black"
        ax.text(j, i, str(count), ha="center", va="center", color=color, fontsize=8)
    bar = fig.colorbar(image, ax=ax, fraction=0.046, label="test rows")
    bar.locator = MaxNLocator(integer=True)
    bar.update_ticks()
    return save(fig, path)


def regression(actual: list[float], predicted: list[float], target: str, path: Path) -> Path:
    """Each test row's prediction against its target (with the identity line), and its
    residual (actual - predicted) against the prediction (with zero)."""
    a, p = np.asarray(actual, dtype=float), np.asarray(predicted, dtype=float)
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.2))
    left.scatter(a, p, s=12, alpha=0.7)
    lo, hi = float(np.nanmin([a.min(), p.min()])), float(np.nanmax([a.max(), p.max()]))
    left.plot([lo, hi], [lo, hi], color="grey", linestyle="--", linewidth=1, label="perfect")
    units = "(target units)"
    left.set(xlabel=f"actual {units}", ylabel=f"predicted {units}", title="Predicted vs actual")
    left.legend()
    right.scatter(p, a - p, s=12, alpha=0.7, color="tab:orange")
    right.axhline(0, color="grey", linestyle="--", linewidth=1)
    right.set(xlabel=f"predicted {units}", ylabel=f"actual - predicted {units}", title="Residuals")
    for ax in (left, right):
        ax.grid(alpha=0.3)
    fig.suptitle(f"Test predictions of {target}")
    return save(fig, path)


def lr_range_test(
    lrs: list[float | None], losses: list[float | None], suggestion: float | None, path: Path
) -> Path:
    """Leslie Smith's range test: the smoothed training loss against the LR, log scale."""
    pairs = [(x, y) for x, y in zip(lrs, losses, strict=False) if x is not None and y is not None]
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    if pairs:
        ax.plot(*zip(*pairs, strict=True), color="tab:blue")
    if suggestion is not None:
        label = f"suggested {suggestion:.3g}"
        ax.axvline(suggestion, color="tab:red", linestyle=":", label=label)
        ax.legend()
    ax.set(xscale="log", xlabel="learning rate", ylabel="training loss (smoothed)")
    ax.set_title("Learning-rate range test")
    ax.grid(alpha=0.3, which="both")
    return save(fig, path)
