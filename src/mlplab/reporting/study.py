"""A study's report, read from its run directories: one row per setting (the runs that differ
only in seed), its metric as mean ± std with a 95 % interval, the source's number beside it, and
the figures the preset asks for. Writes report.md, report.html, results.md (the README's
Results block) and results.csv into the report folder.

The study folder holds one folder per sweep (`<study dir>/<sweep>/<job>/`), each job a normal
run directory; nothing here needs the processes that trained them.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mlplab.atomic import write_text
from mlplab.config.study import Study
from mlplab.reporting.document import (
    Block,
    Bullets,
    Figure,
    Heading,
    Paragraph,
    Table,
    to_html,
    to_markdown,
)
from mlplab.reporting.stats import Spread, spread
from mlplab.reporting.study_figures import FIGURES
from mlplab.reporting.study_runs import Arm, read_arms
from mlplab.reporting.words import metric_words

README_START = "<!-- studies:start (make studies writes this block) -->"
README_END = "<!-- studies:end -->"


def table(study: Study, arms: Sequence[Arm]) -> Table:
    reference = study.reference.get("values") or {}
    header = ["setting", "runs", f"{study.metric} (mean ± std)", "95 % interval"]
    header += [f"{c} (mean ± std)" for c in study.columns]
    if reference:
        header.append(str(study.reference.get("title", "reference")))
    digits = {
        m: _digits([v for a in arms for v in a.values(m)]) for m in (study.metric, *study.columns)
    }
    rows = []
    for arm in arms:
        main = spread(arm.values(study.metric))
        failed = sum(r.status != "done" for r in arm.runs)
        runs = f"{main.n}" + (f" (+{failed} failed)" if failed else "")
        places = digits[study.metric]
        row = [arm.label, runs, _cell(main, places), main.interval(places)]
        row += [_cell(spread(arm.values(c)), digits[c]) for c in study.columns]
        if reference:
            ref = _reference(reference, arm)
            row.append("" if ref is None else f"{ref:g}")
        rows.append(tuple(row))
    return Table(tuple(header), tuple(rows))


def _cell(value: Spread, digits: int) -> str:
    """mean ± std, or a dash where no run has the number (every run failed or diverged)."""
    return value.text(digits) if value.n else "—"


def _digits(values: list[float]) -> int:
    """Decimals for a column: none for counts (parameters, FLOPs), 1 from 100 up, else 4."""
    finite = [v for v in values if math.isfinite(v)]
    if finite and all(v == int(v) for v in finite) and max(map(abs, finite)) >= 10:
        return 0
    return 1 if finite and max(map(abs, finite)) >= 100 else 4


def _reference(values: dict[str, Any], arm: Arm) -> Any:
    for key in (arm.label, *map(str, arm.settings.values()), arm.sweep):
        if key in values:
            return values[key]
    return None


def write_report(study: Study, study_dir: Path, out: Path, record: dict[str, Any]) -> list[Arm]:
    """report.md, report.html, results.md and results.csv of the study's runs in `out`;
    `record` is the study folder's study.json (budget, seeds, command)."""
    budget, command = record["budget"], record["command"]
    arms = read_arms(study, study_dir)
    out.mkdir(parents=True, exist_ok=True)
    summary = table(study, arms)
    figures = [
        FIGURES[spec["kind"]](arms, spec, out / f"{_slug(spec)}.png") for spec in study.figures
    ]
    runs = sum(len(a.runs) for a in arms)
    head: list[Block] = [
        Heading(f"Study: {study.title}", 1),
        Paragraph(study.question),
        Paragraph(
            f"`{command}`: budget `{budget}`, {len(arms)} settings, {runs} runs "
            f"(seeds 0-{record['seeds'] - 1} each, one shared data split), run directories under "
            f"`{study_dir.as_posix()}/`. Mean ± sample standard deviation over seeds; the "
            "interval is Student's t 95 % interval of the mean."
        ),
    ]
    body: list[Block] = [Heading("Results"), summary]
    body += [Figure(f, _caption(spec)) for f, spec in zip(figures, study.figures, strict=True)]
    body += _samples(arms, study.samples)
    body += _settings(arms)
    blocks = head + body
    write_text(out / "report.md", to_markdown(blocks, out))
    write_text(out / "report.html", to_html(blocks, f"Study: {study.title}"))
    write_text(out / "results.csv", _csv(summary))
    results: list[Block] = [Heading(study.title, 4), Paragraph(_first_sentence(study.question))]
    results += [summary, Paragraph(f"Report: {study.name} ({budget} budget, {runs} runs).")]
    write_text(out / "results.md", to_markdown(results, out))
    return arms


def _samples(arms: Sequence[Arm], wanted: int) -> list[Block]:
    if not wanted:
        return []
    blocks: list[Block] = [Heading("Samples")]
    for arm in arms:
        path = arm.runs[0].path / "samples.txt"
        if path.is_file():
            names = path.read_text().split()
            blocks.append(
                Paragraph(
                    f"**{arm.label}** (seed {arm.runs[0].config.get('seed')}): "
                    + ", ".join(f"`{n}`" for n in names[:wanted])
                )
            )
    return blocks


def _settings(arms: Sequence[Arm]) -> list[Block]:
    items = []
    for arm in arms:
        text = ", ".join(f"`{k}={v}`" for k, v in arm.settings.items())
        items.append(f"**{arm.label}**: {text or 'the experiment as it is'}")
    return [Heading("Settings"), Bullets(tuple(items))]


def _caption(spec: dict[str, Any]) -> str:
    y = metric_words(spec["y"]) if "y" in spec else spec.get("column", "")
    kind = spec["kind"]
    if kind == "curves":
        return f"{y} per epoch: mean over seeds, the band ± one standard deviation."
    if kind == "versus":
        return f"{y} against {spec['x']}: mean ± std over seeds."
    if kind == "layers":
        return f"{spec['column']} per hidden layer over training steps, mean over seeds."
    return f"{y} per setting: mean ± std over seeds."


def _slug(spec: dict[str, Any]) -> str:
    name = "_".join(str(spec.get(k, "")) for k in ("kind", "y", "x", "column") if spec.get(k))
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def _first_sentence(text: str) -> str:
    return text.split("? ", 1)[0] + "?" if "? " in text else text


def _csv(summary: Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(summary.header)
    writer.writerows(summary.rows)
    return out.getvalue()


def readme_block(reports: Path) -> str:
    """The README's Results block: every study's results.md, in name order."""
    parts = [README_START]
    for path in sorted(reports.glob("*/results.md")):
        text = path.read_text().replace(
            f"Report: {path.parent.name} ",
            f"Report: [reports/studies/{path.parent.name}/report.md]"
            f"(reports/studies/{path.parent.name}/report.md) ",
        )
        parts.append(text.rstrip("\n"))
    parts.append(README_END)
    return "\n\n".join(parts)


def update_readme(readme: Path, reports: Path) -> bool:
    """Replace the block between the markers; False when the README has no markers."""
    text = readme.read_text()
    start, end = text.find(README_START), text.find(README_END)
    if start < 0 or end < start:
        return False
    new = text[:start] + readme_block(reports) + text[end + len(README_END) :]
    if new != text:
        write_text(readme, new)
    return True
