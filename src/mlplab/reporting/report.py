"""Write one run's report: report.md (figures linked as files) and report.html (the same
content, self-contained), from the run directory's files alone.

A run directory is the pipeline's workspace `.` or a `logs/runs/<name>/` of train.py; the
report reads what exists there and leaves out a section whose files the run does not have.
"""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from mlplab.atomic import write_text
from mlplab.reporting.diagnostics import diagnostics_section
from mlplab.reporting.document import Block, Figure, Heading, to_html, to_markdown
from mlplab.reporting.runfiles import committed, optional_json, read_json
from mlplab.reporting.sections import (
    curves_section,
    lr_find_section,
    metrics_section,
    task_section,
)
from mlplab.reporting.summary import run_name, summary_section

TITLE = "mlplab report"


def report_blocks(run_dir: Path, fig_dir: Path, cfg: DictConfig) -> list[Block]:
    """Every section, in order, with its figures written under `fig_dir`."""
    train = read_json(run_dir / "metrics" / "train.json")
    test_file = run_dir / "metrics" / "test.json"
    test = optional_json(test_file)
    pruned = any("pruning" in str(c.get("_target_", "")).lower() for c in _callbacks(cfg))
    name, _ = run_name(run_dir, _record(run_dir))
    return [
        Heading(f"{TITLE}: {name}", 1),
        *summary_section(run_dir, cfg, train, test),
        *metrics_section(
            test,
            committed(test_file) if test is not None else None,
            train,
            committed(run_dir / "metrics" / "train.json"),
            pruned,
        ),
        *curves_section(run_dir, train.get("best_epoch"), fig_dir),
        *task_section(run_dir, test, fig_dir),
        *diagnostics_section(run_dir, fig_dir),
        *lr_find_section(run_dir, fig_dir),
    ]


def recorded_config(run_dir: str | Path) -> DictConfig | None:
    """The config a run trained with, as its run.json records it (resolved); None without one.
    A run's report describes that config, not the one composed today."""
    record = _record(Path(run_dir))
    return None if record is None or "config" not in record else OmegaConf.create(record["config"])


def _record(run_dir: Path) -> dict | None:
    return optional_json(run_dir / "run.json")


def _callbacks(cfg: DictConfig) -> list[DictConfig]:
    return [c for c in cfg.callbacks.values() if isinstance(c, DictConfig)]


def write_report(run_dir: str | Path, out_dir: str | Path, cfg: DictConfig) -> tuple[Path, Path]:
    """Write `out_dir`/report.md, report.html and figures/*.png for the run in `run_dir`,
    whose config is `cfg`; figures of an earlier report that this one has not are removed.
    Returns the markdown and HTML paths."""
    run_dir, out_dir = Path(run_dir), Path(out_dir)
    fig_dir = out_dir / "figures"
    blocks = report_blocks(run_dir, fig_dir, cfg)
    made = {b.path.resolve() for b in blocks if isinstance(b, Figure)}
    for old in fig_dir.glob("*.png"):
        if old.resolve() not in made:
            old.unlink()
    markdown, page = out_dir / "report.md", out_dir / "report.html"
    write_text(markdown, to_markdown(blocks, out_dir))
    write_text(page, to_html(blocks, title=f"{TITLE}: {run_name(run_dir, _record(run_dir))[0]}"))
    return markdown, page
