"""One table for a multirun: what differs between its jobs and what each job scored.

`SweepSummary` is a Hydra callback (configs/hydra/default.yaml): when `python src/train.py -m`
ends, it reads every job directory's files (.hydra/overrides.yaml, metrics/test.json,
metrics/train.json, error.txt), never live objects, prints the table and writes it as
`<sweep dir>/summary.csv`. A job that failed or diverged is a row with its status.
"""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path
from typing import Any

import yaml
from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from mlplab.atomic import write_text
from mlplab.cli import JOB_ERROR

Row = dict[str, Any]


class SweepSummary(Callback):
    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        if config.hydra.job.name != "train":  # other scripts' sweeps have no metrics
            return
        sweep = Path(config.hydra.sweep.dir)
        columns, rows = summarise(sweep)
        if not rows:
            return
        write_text(sweep / "summary.csv", to_csv([*columns, "directory"], rows))
        print(f"\nsummary of {len(rows)} runs ({sweep / 'summary.csv'}):")
        print(to_table(columns, rows))


def summarise(sweep: Path) -> tuple[list[str], list[Row]]:
    """The columns and one row per job: job, status, the overrides whose values differ
    between jobs, the test metrics and the best epoch's val metrics (`best/val/...`)."""
    jobs = [d for d in sweep.iterdir() if (d / ".hydra" / "overrides.yaml").is_file()]
    jobs.sort(key=lambda d: int(d.name.split("_")[0]) if d.name.split("_")[0].isdigit() else 0)
    rows, settings = [], []
    for job in jobs:
        overrides = yaml.safe_load((job / ".hydra" / "overrides.yaml").read_text()) or []
        settings.append(dict(o.lstrip("+~").split("=", 1) for o in overrides if "=" in o))
        row = {"job": _number(job.name), "status": _status(job), "directory": job.name}
        rows.append({**row, **_metrics(job)})
    keys = list(dict.fromkeys(k for s in settings for k in s))
    differ = [k for k in keys if len({s.get(k) for s in settings}) > 1]
    for row, setting in zip(rows, settings, strict=True):
        row.update({k: setting.get(k) for k in differ})
    metrics = list(dict.fromkeys(k for r in rows for k in r if "/" in k and k not in differ))
    return ["job", "status", *differ, *metrics], rows


def _number(name: str) -> int | str:
    """A job directory's number (`3_seed-2` -> 3): Hydra's hydra.job.num."""
    head = name.split("_", 1)[0]
    return int(head) if head.isdigit() else name


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _status(job: Path) -> str:
    train = _read_json(job / "metrics" / "train.json") or {}
    if train.get("diverged"):
        return "diverged"
    if (job / JOB_ERROR).is_file():
        return "failed: " + (job / JOB_ERROR).read_text().strip().splitlines()[0]
    return "done" if (job / "metrics" / "test.json").is_file() else "unfinished"


def _metrics(job: Path) -> Row:
    test = _read_json(job / "metrics" / "test.json") or {}
    best = (_read_json(job / "metrics" / "train.json") or {}).get("best") or {}
    row = {k: v for k, v in test.items() if k.startswith("test/")}
    row.update({f"best/{k}": v for k, v in best.items() if k.startswith("val/")})
    return row


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def _csv_cell(value: Any) -> Any:
    """Strict numbers: a non-finite or missing value is a blank cell; the rest as read."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    return value


def to_csv(columns: list[str], rows: list[Row]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([_csv_cell(row.get(c)) for c in columns] for row in rows)
    return out.getvalue()


def to_table(columns: list[str], rows: list[Row]) -> str:
    cells = [columns, *([_cell(row.get(c)) for c in columns] for row in rows)]
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    return "\n".join(
        "  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip() for line in cells
    )
