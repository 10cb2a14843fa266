"""The figures a study preset can ask for (`figures:` in configs/study/<name>.yaml), each drawn
from the runs' files with every setting's seeds summarised as mean ± one standard deviation:

- `curves`: a history.csv column (`y`) per epoch, one line and band per setting;
- `versus`: a metric (`y`) against a numeric config key or metric (`x`), a line per sweep or
  per value of the config key `by`;
- `bars`: a metric (`y`) per setting;
- `layers`: a diagnostics/layers.csv column per hidden layer over steps, a panel per setting.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from mlplab.reporting.figures import plt, save
from mlplab.reporting.runfiles import optional_columns
from mlplab.reporting.stats import spread
from mlplab.reporting.study_runs import Arm
from mlplab.reporting.words import metric_words


def _stack(series: list[list[float]]) -> np.ndarray:
    """Runs of unequal length (early stopping) as rows padded with NaN."""
    width = max((len(s) for s in series), default=0)
    out = np.full((len(series), width), np.nan)
    for i, s in enumerate(series):
        out[i, : len(s)] = s
    return out


def _mean_std(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    with warnings.catch_warnings():  # "Mean of empty slice": epochs no run reached
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(rows, axis=0)
        std = np.nanstd(rows, axis=0, ddof=1) if len(rows) > 1 else np.zeros(rows.shape[1])
    return mean, np.nan_to_num(std)


def curves(arms: Sequence[Arm], spec: dict[str, Any], path: Path) -> Path:
    y = spec["y"]
    fig, ax = plt.subplots(figsize=(6.4, 4))
    for arm in arms:
        histories = [h for h in (r.history() for r in arm.runs) if h and y in h]
        if not histories:
            continue
        longest = max(histories, key=lambda h: len(h["epoch"]))
        epochs = np.asarray(longest["epoch"]) + 1
        mean, std = _mean_std(_stack([h[y] for h in histories]))
        (line,) = ax.plot(epochs, mean, label=arm.label)
        ax.fill_between(epochs, mean - std, mean + std, color=line.get_color(), alpha=0.2, lw=0)
    ax.set_xlabel(spec.get("x_label", "epoch"))
    ax.set_ylabel(metric_words(y))
    if spec.get("log_y"):
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return save(fig, path)


def versus(arms: Sequence[Arm], spec: dict[str, Any], path: Path) -> Path:
    x, y, by = spec["x"], spec["y"], spec.get("by")
    lines: dict[str, list[tuple[float, Any]]] = {}
    for arm in arms:
        value = arm.runs[0].config.get(x)  # a config key, else a metric's mean over seeds
        if not isinstance(value, int | float):
            value = spread(arm.values(x)).mean
        if not math.isfinite(value):
            continue
        name = str(arm.runs[0].config.get(by)) if by else arm.sweep
        lines.setdefault(name, []).append((float(value), spread(arm.values(y))))
    fig, ax = plt.subplots(figsize=(6.4, 4))
    for name, points in lines.items():
        points.sort(key=lambda p: p[0])
        xs = [p[0] for p in points]
        means = [p[1].mean for p in points]
        stds = [0.0 if math.isnan(p[1].std) else p[1].std for p in points]
        label = f"{by}={name}" if by else (name if len(lines) > 1 else None)
        ax.errorbar(xs, means, yerr=stds, marker="o", capsize=3, label=label)
    ax.set_xlabel(spec.get("x_label", x))
    ax.set_ylabel(metric_words(y))
    ax.grid(alpha=0.3)
    if len(lines) > 1:
        ax.legend(fontsize=8)
    return save(fig, path)


def bars(arms: Sequence[Arm], spec: dict[str, Any], path: Path) -> Path:
    y = spec["y"]
    spreads = [spread(arm.values(y)) for arm in arms]
    fig, ax = plt.subplots(figsize=(6.4, 0.5 + 0.42 * max(len(arms), 1)))
    positions = np.arange(len(arms))[::-1]
    errors = [0.0 if math.isnan(s.std) else s.std for s in spreads]
    ax.barh(positions, [s.mean for s in spreads], xerr=errors, capsize=3, color="#4c72b0")
    ax.set_yticks(positions, [a.label for a in arms], fontsize=8)
    ax.set_xlabel(metric_words(y))
    low = spec.get("x_min")
    if low is not None:
        ax.set_xlim(left=low)
    ax.grid(axis="x", alpha=0.3)
    return save(fig, path)


def layers(arms: Sequence[Arm], spec: dict[str, Any], path: Path) -> Path:
    column = spec["column"]
    fig, axes = plt.subplots(1, len(arms), figsize=(4.2 * len(arms), 3.6), sharey=True)
    for ax, arm in zip(np.atleast_1d(axes), arms, strict=True):
        per_layer: dict[str, dict[float, list[float]]] = {}
        for run in arm.runs:
            table = optional_columns(run.path / "diagnostics" / "layers.csv", numeric=False)
            if not table or column not in table:
                continue
            for step, layer, value in zip(
                table["step"], table["layer"], table[column], strict=True
            ):
                if value != "":
                    per_layer.setdefault(layer, {}).setdefault(float(step), []).append(float(value))
        for layer, steps in per_layer.items():
            xs = sorted(steps)
            ax.plot(xs, [float(np.mean(steps[s])) for s in xs], label=layer)
        ax.set_title(arm.label, fontsize=10)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
    first = np.atleast_1d(axes)[0]
    first.set_ylabel(spec.get("y_label", column))
    first.legend(fontsize=7)
    return save(fig, path)


FIGURES: dict[str, Callable[[Sequence[Arm], dict[str, Any], Path], Path]] = {
    "curves": curves,
    "versus": versus,
    "bars": bars,
    "layers": layers,
}
