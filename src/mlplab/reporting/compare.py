"""Runs side by side (src/compare.py): one table of what differs in their configs and what they
scored, overlaid learning curves, written as markdown + self-contained HTML.

Runs that differ only in `seed` are repeats of one setting: they are grouped by the other keys
that differ, each group one row of mean ± sample std (ddof=1) over its seeds, with Student's t
95 % interval of the mean in a second table (`stats.spread`), and one mean curve with a ± std
band. Inputs are files only: run directories (`runs.read_run`), or the DVC experiments of a
repository as `dvc exp show --json` lists them, their curves read from each experiment's commit
(`plots/history.csv` is a git-tracked pipeline output).
"""

from __future__ import annotations

import csv
import io
import json
import math
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlplab.atomic import write_text
from mlplab.errors import DataError
from mlplab.reporting import figures
from mlplab.reporting.document import Block, Figure, Heading, Paragraph, Table, to_html, to_markdown
from mlplab.reporting.runfiles import Columns
from mlplab.reporting.runs import (
    Run,
    differences,
    flatten,
    metric_names,
    read_run,
    run_dirs,
    run_metrics,
    seed_groups,
)
from mlplab.reporting.stats import LEVEL, spread
from mlplab.reporting.words import metric_title, quality_metric

LABEL_LIMIT = 40  # characters of a run's name in a table cell or legend


@dataclass(frozen=True)
class Compared:
    run: Run
    history: Columns | None  # plots/history.csv as columns; None where the run has none


@dataclass(frozen=True)
class Comparison:
    header: list[str]
    rows: list[list[str]]
    groups: list[tuple[str, list[int]]]  # (label, member indices); one per run when ungrouped
    grouped: bool  # runs differing only in seed were pooled
    intervals: list[list[str]]  # group, metric, n, mean ± std, interval (grouped only)


def from_paths(paths: list[Path]) -> list[Compared]:
    """The runs in `paths` (run directories, or folders holding them: a multirun, a study)."""
    runs = [read_run(p) for p in run_dirs(paths)]
    return [Compared(r, r.history()) for r in runs]


def from_dvc_experiments(repo: Path) -> list[Compared]:
    """The experiments `dvc exp show --json` lists in `repo`: params.yaml as the config,
    metrics/train.json and metrics/test.json as the metrics, history.csv from the commit."""
    shown = _command(["dvc", "exp", "show", "--json"], repo)
    try:
        commits = json.loads(shown)
    except ValueError:
        raise DataError("compare: `dvc exp show --json` printed no JSON") from None
    found: list[Compared] = []
    for commit in commits:
        for exp in commit.get("experiments") or []:
            for rev in exp.get("revs") or []:
                found.append(_experiment(repo, exp, rev))
    if not found:
        raise DataError(
            f"compare: no DVC experiments in {repo} (`dvc exp show` lists none); "
            "run `dvc exp run` or `dvc exp run --queue` + `dvc queue start` first"
        )
    return found


def _experiment(repo: Path, exp: Mapping[str, Any], rev: Mapping[str, Any]) -> Compared:
    data = rev.get("data") or {}
    files = data.get("metrics") or {}
    train = (files.get("metrics/train.json") or {}).get("data") or {}
    test = (files.get("metrics/test.json") or {}).get("data") or {}
    params = ((data.get("params") or {}).get("params.yaml") or {}).get("data") or {}
    state = (exp.get("executor") or {}).get("state") or ""
    if rev.get("error"):
        status = "failed: " + str((rev["error"] or {}).get("msg", rev["error"])).splitlines()[0]
    elif train.get("diverged"):
        status = "diverged"
    elif test:
        status = "done"
    else:
        status = state or "unfinished"
    sha = rev.get("rev") or ""
    history = _committed_history(repo, sha) if sha and test else None
    name = rev.get("name") or exp.get("name") or sha[:7]
    run = Run(repo, name, flatten(params), status, run_metrics(train, test), train)
    return Compared(run, history)


def _committed_history(repo: Path, sha: str) -> Columns | None:
    """plots/history.csv as committed in `sha`; None when the commit has no such file."""
    shown = subprocess.run(
        ["git", "show", f"{sha}:plots/history.csv"], cwd=repo, capture_output=True, text=True
    )
    if shown.returncode != 0:
        return None
    rows = list(csv.DictReader(io.StringIO(shown.stdout)))
    if not rows:
        return None
    return {c: [_float(r[c]) for r in rows] for c in rows[0]}


def _float(cell: str | None) -> float:
    try:
        return float(cell) if cell else math.nan
    except ValueError:
        return math.nan


def _command(cmd: list[str], cwd: Path) -> str:
    try:
        done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    except FileNotFoundError:
        raise DataError(f"compare: `{cmd[0]}` is not on PATH; activate the venv") from None
    if done.returncode != 0:
        first = (done.stderr.strip().splitlines() or ["(no message)"])[-1]
        raise DataError(f"compare: `{' '.join(cmd)}` failed in {cwd}: {first}")
    return done.stdout


def compare(items: list[Compared]) -> Comparison:
    """The table: one row per run (status, differing keys, metrics), or, when the seed differs,
    one row per setting of the other differing keys with mean ± std over its runs."""
    runs = [c.run for c in items]
    differ = differences(runs)
    metrics = metric_names(r.metrics for r in runs)
    found = seed_groups([r.config for r in runs], differ)
    if found is None or all(len(members) == 1 for _, members in found[1]):
        header = ["run", "status", *differ, *metrics]
        rows = [
            [_short(r.name), r.status, *(_text(r.config.get(k)) for k in differ)]
            + [_score(r.metrics.get(m)) for m in metrics]
            for r in runs
        ]
        labels = [_label(r, differ) for r in runs]
        return Comparison(header, rows, [(la, [i]) for i, la in enumerate(labels)], False, [])
    keys, groups = found
    header, rows, labelled, intervals = [*keys, "runs", *metrics], [], [], []
    for values, members in groups:
        label = ", ".join(f"{k}={_text(v)}" for k, v in zip(keys, values, strict=True))
        label = label or "all runs"
        done = sum(runs[i].status == "done" for i in members)
        count = str(done) if done == len(members) else f"{done} of {len(members)} done"
        cells = []
        for metric in metrics:
            s = spread(runs[i].metrics.get(metric) for i in members)
            cells.append(s.text() if s.n else "")
            intervals.append([label, metric, str(s.n), s.text() if s.n else "", s.interval()])
        rows.append([*(_text(v) for v in values), count, *cells])
        labelled.append((f"{label} (n={len(members)})", members))
    return Comparison(header, rows, labelled, True, intervals)


def _text(value: Any) -> str:
    """A config value as written (`0.1`, `[16]`); None as a blank."""
    return "" if value is None else str(value)


def _score(value: float | None) -> str:
    return "" if value is None or not math.isfinite(value) else f"{value:.4f}"


def _short(name: str) -> str:
    name = name.rsplit("/", 1)[-1]
    return name if len(name) <= LABEL_LIMIT else name[: LABEL_LIMIT - 1] + "…"


def _label(run: Run, differ: list[str]) -> str:
    keys = [k for k in differ if k in run.config]
    return ", ".join(f"{k}={_text(run.config[k])}" for k in keys) or _short(run.name)


def curves(items: list[Compared], groups: list[tuple[str, list[int]]], path: Path) -> Path | None:
    """val/loss and the main validation metric per epoch: one line per group, the mean of its
    runs with a ± std band where it has more than one; None when no run has a history."""
    histories = [c.history for c in items]
    columns = [k for h in histories if h for k in h]
    if not any(h and h.get("epoch") for h in histories):
        return None
    quality = quality_metric(list(dict.fromkeys(columns)), "val")
    keys = ["val/loss", *([quality] if quality else [])]
    fig, axes = figures.plt.subplots(1, len(keys), figsize=(5.2 * len(keys), 3.8), squeeze=False)
    for ax, key in zip(axes[0], keys, strict=True):
        for label, members in groups:
            epochs, mean, std = _pooled([histories[i] for i in members], key)
            if not epochs:
                continue
            (line,) = ax.plot(epochs, mean, marker="." if len(epochs) < 40 else None, label=label)
            if len(members) > 1:
                low = [m - s if math.isfinite(s) else m for m, s in zip(mean, std, strict=True)]
                high = [m + s if math.isfinite(s) else m for m, s in zip(mean, std, strict=True)]
                ax.fill_between(epochs, low, high, color=line.get_color(), alpha=0.2, linewidth=0)
        ax.set(xlabel="epoch", title=metric_title(key))
        ax.grid(alpha=0.3)
        ax.xaxis.get_major_locator().set_params(integer=True)
    axes[0][-1].legend(fontsize="small")
    return figures.save(fig, path)


def _pooled(
    histories: list[Columns | None], key: str
) -> tuple[list[float], list[float], list[float]]:
    """Per epoch: the mean and sample std of `key` over the histories that have it."""
    by_epoch: dict[float, list[float]] = {}
    for history in histories:
        if not history or key not in history:
            continue
        for epoch, value in zip(history["epoch"], history[key], strict=True):
            by_epoch.setdefault(epoch, []).append(value)
    epochs, mean, std = [], [], []
    for epoch in sorted(by_epoch):
        s = spread(by_epoch[epoch])
        if s.n:
            epochs.append(epoch)
            mean.append(s.mean)
            std.append(s.std)
    return epochs, mean, std


def report_blocks(
    items: list[Compared], table: Comparison, source: str, fig_dir: Path
) -> list[Block]:
    runs = [c.run for c in items]
    blocks: list[Block] = [Heading(f"Comparison of {len(runs)} runs", 1), Paragraph(source)]
    if table.grouped:
        blocks.append(
            Paragraph(
                "Runs that differ only in `seed` are grouped by the other keys that differ: "
                "each cell is the mean ± sample standard deviation (ddof=1) over the group's "
                f"seeds; the {LEVEL:.0%} interval below is Student's t interval of the mean."
            )
        )
    blocks += [Heading("Config differences and metrics"), Table(tuple(table.header), _rows(table))]
    if table.grouped:
        header = ("setting", "metric", "n", "mean ± std", f"{LEVEL:.0%} interval")
        blocks += [Heading("Intervals over seeds"), Table(header, _rows(table, table.intervals))]
    blocks.append(Heading("Learning curves"))
    path = curves(items, table.groups, fig_dir / "curves.png")
    if path is None:
        blocks.append(Paragraph("No run has a `plots/history.csv` with rows: no curves to show."))
    else:
        band = "; each line is a group's mean, the band ± one std over its seeds" * table.grouped
        blocks.append(Figure(path, f"Validation loss and metric per epoch{band}"))
    missing = [_short(c.run.name) for c in items if not (c.history and c.history.get("epoch"))]
    if missing and path is not None:
        blocks.append(Paragraph("No curves for: " + ", ".join(f"`{m}`" for m in missing) + "."))
    blocks += [
        Heading("Runs"),
        Table(
            ("run", "status", "directory"),
            tuple((_short(r.name), r.status, f"`{r.path}`") for r in runs),
            (False, False, False),
        ),
    ]
    return blocks


def _rows(table: Comparison, rows: list[list[str]] | None = None) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(row) for row in (table.rows if rows is None else rows))


def write_comparison(
    items: list[Compared], table: Comparison, source: str, out_dir: Path
) -> tuple[Path, Path]:
    """`out_dir`/compare.md, compare.html and figures/curves.png; returns the two reports."""
    blocks = report_blocks(items, table, source, out_dir / "figures")
    markdown, page = out_dir / "compare.md", out_dir / "compare.html"
    write_text(markdown, to_markdown(blocks, out_dir))
    write_text(page, to_html(blocks, title=f"mlplab: comparison of {len(items)} runs"))
    return markdown, page
