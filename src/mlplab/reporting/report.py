"""Write reports/report.md: metrics table, per-class table and figures of one pipeline run."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np
from omegaconf import DictConfig

from mlplab.atomic import write_text
from mlplab.config.rules import plain
from mlplab.data.store import prepared_dir
from mlplab.errors import DataError
from mlplab.reporting import figures
from mlplab.training.provenance import summary_line


def _read_json(path: Path) -> Any:
    if not path.is_file():
        raise DataError(f"report input {path} is missing; run the earlier stages first")
    try:
        return json.loads(path.read_text())
    except ValueError as err:
        raise DataError(f"report input {path} is not valid JSON: {err}") from None


def read_columns(path: Path, numeric: bool = True) -> dict[str, list[Any]]:
    """A CSV file as {column: values}; numeric columns become floats (blank -> nan)."""
    if not path.is_file():
        raise DataError(f"report input {path} is missing; run the earlier stages first")
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    columns = rows[0].keys() if rows else []
    if not numeric:
        return {c: [r[c] for r in rows] for c in columns}
    return {c: [float(r[c]) if r[c] != "" else float("nan") for r in rows] for c in columns}


def confusion_counts(pairs: list[dict[str, str]], class_names: list[str]) -> np.ndarray:
    index = {name: i for i, name in enumerate(class_names)}
    counts = np.zeros((len(class_names), len(class_names)), dtype=int)
    for pair in pairs:
        counts[index[pair["actual"]], index[pair["predicted"]]] += 1
    return counts


def run_summary(cfg: DictConfig) -> dict[str, str]:
    """The report's header: dataset, model, optimizer, seeds and (once prepared) the split."""
    model = cfg.model
    summary = {
        "dataset": cfg.data.name,
        "model": f"MLP {list(model.hidden_sizes)}, {model.activation}, norm={model.norm}, "
        f"dropout={model.dropout}",
        "optimizer": f"{cfg.optimizer._target_.rsplit('.', 1)[-1]} (lr={cfg.optimizer.lr})",
        "seed": f"{cfg.seed} (split seed {cfg.data.split.seed})",
        "provenance": summary_line(),
    }
    data = cfg.data
    meta_file = prepared_dir(cfg.paths.data_dir, data.name, plain(data.source), plain(data.split))
    meta_file = meta_file / "meta.json"
    meta = _read_json(meta_file) if meta_file.is_file() else {}
    if "split" in meta:
        split = meta["split"]
        summary["split"] = f"{split['digest']} (train/val/test = {split['sizes']})"
    return summary


def build_report(root: str | Path, out_dir: str | Path, summary: dict[str, str]) -> Path:
    """Read the pipeline files under `root`, write figures and report.md under `out_dir`.

    `summary` is a small dict of config facts (run_summary) for the header.
    """
    root, out_dir = Path(root), Path(out_dir)
    train = _read_json(root / "metrics" / "train.json")
    test = _read_json(root / "metrics" / "test.json")
    pairs = _read_json(root / "plots" / "confusion.json")
    history = read_columns(root / "plots" / "history.csv")
    fig_dir = out_dir / "figures"
    made = [figures.learning_curves(history, fig_dir / "learning_curves.png")]
    if "lr" in history:
        made.append(figures.lr_curve(history, fig_dir / "lr.png"))
    if pairs:  # tasks with one class per row
        class_names = list(test["per_class"])
        counts = confusion_counts(pairs, class_names)
        made.append(figures.confusion_matrix(counts, class_names, fig_dir / "confusion_matrix.png"))
    elif "test/r2" in test:  # regression: numeric actual and predicted columns
        predictions = read_columns(root / "plots" / "predictions.csv")
        if "actual" in predictions:
            made.append(
                figures.predicted_vs_actual(predictions, fig_dir / "predicted_vs_actual.png")
            )
    lines = ["# mlplab report", ""]
    lines += [f"- **{k}**: {v}" for k, v in summary.items()]
    lines += ["", "## Test metrics", "", "| metric | value |", "|---|---|"]
    lines += [f"| {k} | {_fmt(v)} |" for k, v in test.items() if not isinstance(v, dict)]
    lines += ["", "## Training", ""]
    lines += _training_lines(train)
    if "per_class" in test:
        lines += ["", "## Per-class", "", "| class | precision | recall |", "|---|---|---|"]
        lines += [
            f"| {name} | {_fmt(v['precision'])} | {_fmt(v['recall'])} |"
            for name, v in test["per_class"].items()
        ]
    lines += ["", "## Figures", ""]
    for path in made:
        title = path.stem.replace("_", " ").capitalize()
        lines += [f"### {title}", "", f"![{title}]({path.relative_to(out_dir).as_posix()})", ""]
    report = out_dir / "report.md"
    write_text(report, "\n".join(lines))
    return report


def _training_lines(train: dict[str, Any]) -> list[str]:
    """train.json's counts, then one row per metric: its value at the best and the last epoch."""
    lines = [f"- **{k}**: {_fmt(v)}" for k, v in train.items() if not isinstance(v, dict)]
    best, final = train.get("best", {}), train["final"]
    lines += ["", "| metric | best epoch | final epoch |", "|---|---|---|"]
    for name in sorted(best.keys() | final.keys()):
        cells = [_fmt(epoch[name]) if name in epoch else "" for epoch in (best, final)]
        lines.append(f"| {name} | {' | '.join(cells)} |")
    return lines


def _fmt(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)
