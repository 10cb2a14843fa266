"""The report's sections after the summary, each a list of blocks (empty when the run has no
data for it): metrics against the committed ones, learning curves and learning rate, results
by class or residuals, the LR range test (diagnostics.py has the diagnostics section)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from mlplab.reporting import figures
from mlplab.reporting.document import Block, Figure, Heading, Paragraph, Table
from mlplab.reporting.runfiles import (
    class_support,
    confusion_counts,
    optional_columns,
    optional_json,
    read_columns,
)
from mlplab.reporting.words import metric_title, quality_metric


def number(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, int):  # bool too
        return str(value)
    return f"{value:.4f}" if math.isfinite(value) else str(value)


def _change(old: Any, new: Any) -> str:
    if not isinstance(old, int | float) or not isinstance(new, int | float):
        return ""
    if old == new:
        return "0"
    if isinstance(old, int) and isinstance(new, int):
        return f"{new - old:+d}"
    return f"{new - old:+.4f}"


def _scalars(values: dict[str, Any]) -> dict[str, Any]:
    """Numbers and nulls, nested dicts flattened as `dvc metrics diff` does (`best.val/acc`)."""
    flat: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, dict):
            flat.update({f"{key}.{k}": v for k, v in _scalars(value).items()})
        elif value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
            flat[key] = value
    return flat


def metrics_table(
    new: dict[str, Any], old: dict[str, Any] | None, label: dict[str, str], keep: list[str]
) -> Table:
    """One row per key in `keep`: its label, the committed value, this run's and the change;
    without a committed file, the value only."""
    new_flat, old_flat = _scalars(new), _scalars(old) if old is not None else None
    if old_flat is None:
        return Table(("metric", "value"), tuple((label[k], number(new_flat[k])) for k in keep))
    compared = tuple(
        (
            label[k],
            number(old_flat.get(k)),
            number(new_flat[k]),
            _change(old_flat.get(k), new_flat[k]),
        )
        for k in keep
    )
    return Table(("metric", "committed (HEAD)", "this run", "change"), compared)


def _key_label(key: str) -> str:
    part, _, metric = key.rpartition(".")
    where = {"best": " at the best epoch", "final": " at the last epoch"}.get(part, "")
    if key == "n_test":
        return "Test rows (`n_test`)"
    return f"{metric_title(metric).replace('_', ' ')}{where} (`{key}`)"


def metrics_section(
    test: dict[str, Any] | None,
    old_test: dict[str, Any] | None,
    train: dict[str, Any],
    old_train: dict[str, Any] | None,
    pruned: bool,
) -> list[Block]:
    blocks: list[Block] = [Heading("Metrics")]
    if old_test is None and old_train is None:
        blocks.append(Paragraph("No committed metrics to compare with (not in git at HEAD)."))
    else:
        blocks.append(
            Paragraph("Compared with the files committed at git HEAD, as `dvc metrics diff` does.")
        )
    if test is not None:
        flat = _scalars(test)
        keep = sorted(k for k in flat if k.startswith("test/")) + [k for k in flat if k == "n_test"]
        blocks += [
            Heading("Test split", 3),
            metrics_table(test, old_test, {k: _key_label(k) for k in keep}, keep),
        ]
    flat = _scalars(train)
    keep = [k for k in ("epochs_trained", "best_epoch") if k in flat]
    keep += sorted(k for k in flat if k.startswith("best."))
    keep += sorted(k for k in flat if k.startswith("final."))
    if flat.get("weight_sparsity") is not None and (pruned or flat["weight_sparsity"] > 0):
        keep.append("weight_sparsity")
    names = {
        "epochs_trained": "Epochs trained",
        "best_epoch": "Best epoch (lowest val/loss)",
        "weight_sparsity": "Weight sparsity of the tested weights",
    }
    labels = {k: names[k] if k in names else _key_label(k) for k in keep}
    blocks += [Heading("Training", 3), metrics_table(train, old_train, labels, keep)]
    return blocks


def curves_section(run_dir: Path, best_epoch: int | None, fig_dir: Path) -> list[Block]:
    history = read_columns(run_dir / "plots" / "history.csv")
    blocks: list[Block] = [Heading("Learning curves")]
    if history.get("epoch"):
        quality = quality_metric(list(history), "val")
        path = figures.learning_curves(
            history, quality, best_epoch, fig_dir / "learning_curves.png"
        )
        title = "Loss" + (f" and {metric_title(quality).lower()}" if quality else "") + " per epoch"
        blocks.append(Figure(path, title))
    else:
        blocks.append(Paragraph("No epoch finished: plots/history.csv has no rows."))
    steps = optional_columns(run_dir / "plots" / "lr.csv")
    if steps is not None and steps.get("step"):
        groups = [c for c in steps if c == "lr" or c.startswith("lr/")]
        series = {f"parameter group {c.partition('/')[2] or 0}": steps[c] for c in groups}
        path = figures.learning_rate(steps["step"], series, "optimizer step", fig_dir / "lr.png")
        blocks.append(Figure(path, "Learning rate at every optimizer step"))
    elif history.get("lr"):
        series = {"learning rate": history["lr"]}
        path = figures.learning_rate(history["epoch"], series, "epoch", fig_dir / "lr.png")
        blocks.append(Figure(path, "Learning rate of each epoch"))
    return blocks


def _f1(precision: float, recall: float) -> float:
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def task_section(run_dir: Path, test: dict[str, Any] | None, fig_dir: Path) -> list[Block]:
    """Classification: the confusion matrix and a per-class table; regression: residuals."""
    if test is None:
        return []
    predictions = optional_columns(run_dir / "plots" / "predictions.csv", numeric=False)
    if "per_class" in test:
        names = list(test["per_class"])
        pairs = optional_json(run_dir / "plots" / "confusion.json") or []
        blocks: list[Block] = [Heading("Results by class (test split)")]
        if pairs:
            counts = confusion_counts(pairs, names)
            path = figures.confusion_matrix(counts, names, fig_dir / "confusion_matrix.png")
            blocks.append(
                Figure(path, "Confusion matrix: actual class by row, predicted by column")
            )
        support = class_support(names, pairs, predictions)
        header = ("class", "precision", "recall", "F1", *(("support",) if support else ()))
        rows = []
        for name, scores in test["per_class"].items():
            p, r = scores["precision"], scores["recall"]
            rows.append(
                (
                    name,
                    number(p),
                    number(r),
                    number(_f1(p, r)),
                    *((str(support[name]),) if support else ()),
                )
            )
        blocks.append(Table(header, tuple(rows)))
        return blocks
    if predictions is None:
        return []
    targets = [c.removeprefix("actual").lstrip("_") for c in predictions if c.startswith("actual")]
    blocks = [Heading("Regression results (test split)")]
    for target in targets:
        suffix = f"_{target}" if target else ""
        actual = [float(v) for v in predictions[f"actual{suffix}"]]
        predicted = [float(v) for v in predictions[f"predicted{suffix}"]]
        name = target or "the target"
        path = figures.regression(actual, predicted, name, fig_dir / f"residuals{suffix}.png")
        blocks.append(Figure(path, f"Predicted against actual, and residuals, of {name}"))
    return blocks if targets else []


def lr_find_section(run_dir: Path, fig_dir: Path) -> list[Block]:
    """Leslie Smith's LR range test, when the run ran one (RUN/lr_find.json)."""
    found = optional_json(run_dir / "lr_find.json")
    if found is None:
        return []
    suggestion, settings = found["suggestion"], found["settings"]
    path = figures.lr_range_test(found["lr"], found["loss"], suggestion, fig_dir / "lr_find.png")
    said = (
        f"suggested learning rate **{suggestion:.3g}**"
        if suggestion is not None
        else "no suggestion (too few finite losses)"
    )
    text = (
        f"Leslie Smith's LR range test: {settings['num_training']} steps, {settings['mode']} "
        f"from {settings['min_lr']:g} to {settings['max_lr']:g}; {said}."
    )
    return [
        Heading("Learning-rate range test"),
        Paragraph(text),
        Figure(path, "Training loss against the learning rate"),
    ]
