"""One table for a multirun: what differs between its jobs and what each job scored, and, when
the seed is swept, every metric's mean ± std and 95 % interval over the seeds.

`SweepSummary` is a Hydra callback (configs/hydra/default.yaml): when `python src/train.py -m`
ends, it reads every job directory's files (.hydra/overrides.yaml and what `runs.read_run`
reads), never live objects, prints the table and writes it as `<sweep dir>/summary.csv`. A job
that failed or diverged is a row with its status.

With `seed` among the swept keys (`-m 'seed=range(5)' model.dropout=0.1,0.5`), the jobs that
share the values of the other swept keys are repeats of one setting: a second table gives, per
setting and metric, the number of runs with a finite value, mean ± sample std (ddof=1) and
Student's t 95 % interval of the mean (`stats.spread`), printed and written as
`<sweep dir>/summary_seeds.csv`. A failed or diverged job has no value and is not counted.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from mlplab.atomic import write_text
from mlplab.reporting.runs import metric_names, read_run, seed_groups
from mlplab.reporting.stats import LEVEL, spread

Row = dict[str, Any]
SEED_COLUMNS = ["metric", "n", "mean", "std", "ci_low", "ci_high"]


class SweepSummary(Callback):
    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        if config.hydra.job.name != "train":  # other scripts' sweeps have no metrics
            return
        sweep = Path(config.hydra.sweep.dir)
        table = summarise(sweep)
        if not table.rows:
            return
        write_text(sweep / "summary.csv", to_csv([*table.columns, "directory"], table.rows))
        print(f"\nsummary of {len(table.rows)} runs ({sweep / 'summary.csv'}):")
        print(to_table(table.columns, table.rows))
        seeds = over_seeds(table)
        if seeds is None:
            return
        keys, stats = seeds
        write_text(sweep / "summary_seeds.csv", to_csv([*keys, *SEED_COLUMNS], stats))
        print(
            f"\nmean ± std over seeds (sample std, ddof=1; {LEVEL:.0%} t interval of the mean)"
            f" ({sweep / 'summary_seeds.csv'}):"
        )
        print(to_table([*keys, "metric", "n", "mean ± std", "interval"], stats))


@dataclass(frozen=True)
class Summary:
    differ: list[str]  # the overrides whose values differ between jobs
    metrics: list[str]  # test/* and best/val/*
    rows: list[Row]  # one per job: job, status, directory, the differing overrides, metrics

    @property
    def columns(self) -> list[str]:
        return ["job", "status", *self.differ, *self.metrics]


def summarise(sweep: Path) -> Summary:
    """One row per job directory (in job order): its number, status, the overrides whose values
    differ between jobs, its test metrics and its best epoch's val metrics (`best/val/...`)."""
    jobs = [d for d in sweep.iterdir() if (d / ".hydra" / "overrides.yaml").is_file()]
    jobs.sort(key=lambda d: int(d.name.split("_")[0]) if d.name.split("_")[0].isdigit() else 0)
    rows: list[Row] = []
    settings, scores = [], []
    for job in jobs:
        overrides = yaml.safe_load((job / ".hydra" / "overrides.yaml").read_text()) or []
        settings.append(dict(o.lstrip("+~").split("=", 1) for o in overrides if "=" in o))
        run = read_run(job)
        rows.append({"job": _number(job.name), "status": run.status, "directory": job.name})
        rows[-1].update(run.metrics)
        scores.append(run.metrics)
    keys = list(dict.fromkeys(k for s in settings for k in s))
    differ = [k for k in keys if len({s.get(k) for s in settings}) > 1]
    metrics = [k for k in metric_names(scores) if k not in differ]
    for row, setting in zip(rows, settings, strict=True):
        row.update({k: setting.get(k) for k in differ})
    return Summary(differ, metrics, rows)


def over_seeds(table: Summary) -> tuple[list[str], list[Row]] | None:
    """Per setting of the swept keys other than `seed` and per metric: n, mean, std, ci_low,
    ci_high (and their text, `mean ± std` and `interval`); None when the seed was not swept."""
    found = seed_groups(table.rows, table.differ)
    if found is None:
        return None
    keys, groups = found
    stats = []
    for values, members in groups:
        for metric in table.metrics:
            s = spread(table.rows[i].get(metric) for i in members)
            stats.append(
                {
                    **dict(zip(keys, values, strict=True)),
                    "metric": metric,
                    "n": s.n,
                    "mean": s.mean,
                    "std": s.std,
                    "ci_low": s.low,
                    "ci_high": s.high,
                    "mean ± std": s.text(),
                    "interval": s.interval(),
                }
            )
    return keys, stats


def _number(name: str) -> int | str:
    """A job directory's number (`3_seed-2` -> 3): Hydra's hydra.job.num."""
    head = name.split("_", 1)[0]
    return int(head) if head.isdigit() else name


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
