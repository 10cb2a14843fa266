"""The report's training-diagnostics section, from RUN/diagnostics/ (layers.csv,
histograms.json, warnings.json): warnings, the last logged step per layer, activation
histograms, and per-layer saturation, dead units and update ratios over the logged steps."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from mlplab.reporting.document import (  # noqa: E402
    Block,
    Bullets,
    Figure,
    Heading,
    Paragraph,
    Table,
)
from mlplab.reporting.figures import save  # noqa: E402
from mlplab.reporting.runfiles import optional_json, read_columns  # noqa: E402

Rows = list[dict[str, Any]]  # layers.csv rows: numbers as floats (nan when blank), layer as str

HEALTHY_UPDATE_RATIO = -3.0  # log10 of update size over weight size (Karpathy's rule of thumb)


def layer_series(rows: Rows, column: str) -> dict[str, tuple[list[float], list[float]]]:
    """{layer: (steps, values)} for the layers with at least one finite value in `column`,
    in the order layers first appear."""
    series: dict[str, tuple[list[float], list[float]]] = {}
    for row in rows:
        steps, values = series.setdefault(row["layer"], ([], []))
        steps.append(row["step"])
        values.append(row[column])
    return {k: v for k, v in series.items() if any(math.isfinite(x) for x in v[1])}


def over_steps(
    rows: Rows,
    column: str,
    title: str,
    y_label: str,
    path: Path,
    reference: float | None = None,
) -> Path:
    """One line per layer of `column` against the optimizer step; a dashed reference line."""
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    for layer, (steps, values) in layer_series(rows, column).items():
        ax.plot(steps, values, marker="." if len(steps) < 40 else None, label=layer)
    if reference is not None:
        label = f"healthy ({reference:g})"
        ax.axhline(reference, color="grey", linestyle="--", linewidth=1, label=label)
    ax.set(xlabel="optimizer step", ylabel=y_label, title=title)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return save(fig, path)


def _bars(ax: Any, histogram: dict[str, list[float]], label: str, first: bool) -> None:
    """The first step filled, the last as an outline over it, so both stay visible."""
    edges, counts = np.asarray(histogram["edges"]), np.asarray(histogram["counts"])
    if first:
        ax.stairs(counts, edges, fill=True, alpha=0.35, color="tab:blue", label=label)
    else:
        ax.stairs(counts, edges, color="tab:orange", linewidth=1.6, label=label)


def activation_histograms(histograms: dict[str, Any], path: Path) -> Path:
    """Per hidden layer, the histogram of its activations at the first and last logged step."""
    first, last = histograms["first"], histograms["last"]
    layers = list(first["layers"])
    fig, axes = plt.subplots(
        1,
        len(layers),
        figsize=(max(4.5, 3.6 * len(layers)), 3.6),
        squeeze=False,
        layout="constrained",
    )
    for ax, layer in zip(axes[0], layers, strict=True):
        _bars(ax, first["layers"][layer]["activation"], f"step {first['step']}", first=True)
        if layer in last["layers"]:
            _bars(ax, last["layers"][layer]["activation"], f"step {last['step']}", first=False)
        ax.set(title=f"Layer {layer}", xlabel="activation value", ylabel="count")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    fig.suptitle("Activation histograms, first and last logged step")
    return save(fig, path)


def _layer_rows(path: Path) -> Rows:
    text = read_columns(path, numeric=False)
    columns = [c for c in text if c != "layer"]
    return [
        {
            "layer": layer,
            **{c: float(text[c][i]) if text[c][i] != "" else math.nan for c in columns},
        }
        for i, layer in enumerate(text.get("layer", []))
    ]


def _percent(value: float) -> str:
    return f"{100 * value:.1f} %" if math.isfinite(value) else ""


def diagnostics_section(run_dir: Path, fig_dir: Path) -> list[Block]:
    """Warnings, the last logged step per layer, and figures of diagnostics/ (when it exists)."""
    folder = run_dir / "diagnostics"
    if not folder.is_dir():
        return []
    blocks: list[Block] = [Heading("Training diagnostics")]
    warnings = optional_json(folder / "warnings.json")
    if warnings is not None:
        blocks.append(Heading("Warnings", 3))
        if warnings:
            blocks.append(
                Bullets(
                    tuple(
                        f"**{w['condition']}** in `{w['layer'] or 'the network'}` at step "
                        f"{w['step']}: {w['message']}"
                        for w in warnings
                    )
                )
            )
        else:
            blocks.append(
                Paragraph(
                    "No warnings: no layer saturated or died, and no gradient vanished or "
                    "exploded, nor were updates badly sized."
                )
            )
    rows = _layer_rows(folder / "layers.csv") if (folder / "layers.csv").is_file() else []
    if rows:
        last_step = rows[-1]["step"]
        last = [r for r in rows if r["step"] == last_step]
        columns = [
            (c, title, fmt)
            for c, title, fmt in (
                ("saturated", "saturated", _percent),
                ("dead", "dead units", _percent),
                (
                    "update_ratio",
                    "update ratio (log10)",
                    lambda v: f"{v:.2f}" if math.isfinite(v) else "",
                ),
            )
            if any(math.isfinite(r[c]) for r in last)
        ]
        blocks.append(
            Heading(f"Last logged step (step {int(last_step)}, epoch {int(last[0]['epoch'])})", 3)
        )
        blocks.append(
            Table(
                ("layer", *(t for _, t, _ in columns)),
                tuple((r["layer"], *(f(r[c]) for c, _, f in columns)) for r in last),
            )
        )
    histograms = optional_json(folder / "histograms.json")
    if histograms is not None and histograms.get("first", {}).get("layers"):
        path = activation_histograms(histograms, fig_dir / "activation_histograms.png")
        blocks.append(
            Figure(path, "Activation histograms per hidden layer at the first and last logged step")
        )
    plots = (
        ("saturated", "Saturated activations", "fraction saturated", None, "saturation.png"),
        ("dead", "Dead units", "fraction of units never active", None, "dead_units.png"),
        (
            "update_ratio",
            "Update-to-weight ratio",
            "log10(update std / weight std)",
            HEALTHY_UPDATE_RATIO,
            "update_ratio.png",
        ),
    )
    for column, title, y_label, reference, name in plots:
        if rows and layer_series(rows, column):
            path = over_steps(rows, column, title, y_label, fig_dir / name, reference)
            caption = f"{title} per layer over training"
            if reference is not None:
                caption += f" (dashed: {reference:g}, the healthy size)"
            blocks.append(Figure(path, caption))
    return blocks if len(blocks) > 1 else []
