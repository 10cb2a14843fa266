"""A study's runs grouped by setting: the runs of one sweep that differ only in seed form an
`Arm`, and `value` reads any of a run's numbers by name (test/*, best/val/*, final/*,
metrics/train.json's top-level numbers, checkpoint_kb)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlplab.config.study import Study
from mlplab.reporting.runs import Run, differences, find_runs, read_run


@dataclass(frozen=True)
class Arm:
    """One setting of a study: its runs differ only in seed."""

    label: str
    sweep: str
    settings: dict[str, Any]  # the config keys that tell it from the other arms
    runs: tuple[Run, ...]

    def values(self, metric: str) -> list[float]:
        return [value(run, metric) for run in self.runs]


def read_arms(study: Study, study_dir: Path) -> list[Arm]:
    """The study's runs grouped by setting, in sweep order then in the order the sweep ran."""
    runs = [read_run(p) for p in find_runs([study_dir])]
    runs = [r for r in runs if r.path.parent.name in study.sweeps]
    if not runs:
        return []
    differ = [k for k in differences(runs) if k != "seed"]
    groups: dict[tuple[str, tuple[Any, ...]], list[Run]] = {}
    for run in sorted(runs, key=lambda r: list(study.sweeps).index(r.path.parent.name)):
        key = (run.path.parent.name, tuple(run.config.get(k) for k in differ))
        groups.setdefault(key, []).append(run)
    arms = []
    for (sweep, values), members in groups.items():
        inside = {k for k in differ if len({r.config.get(k) for r in runs if _in(r, sweep)}) > 1}
        shown = [str(v) for k, v in zip(differ, values, strict=True) if k in inside]
        text = ", ".join(shown)
        if len(study.sweeps) > 1:
            text = f"{sweep}: {text}" if text else sweep
        label = study.labels.get(text, text)
        settings = dict(zip(differ, values, strict=True))
        arms.append(Arm(label, sweep, settings, tuple(members)))
    return arms


def _in(run: Run, sweep: str) -> bool:
    return run.path.parent.name == sweep


def value(run: Run, metric: str) -> float:
    """A run's number for `metric`: its metrics (test/*, best/val/*), `final/<metric>` (the last
    epoch's, metrics/train.json), train.json's top-level numbers (epochs_trained,
    weight_sparsity, nonzero_weights, ...), or `checkpoint_kb` (the tested checkpoint's size)."""
    if metric in run.metrics:
        return float(run.metrics[metric])
    if metric.startswith("final/"):
        value = (run.train.get("final") or {}).get(metric.removeprefix("final/"))
    else:
        value = run.train.get(metric)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if metric == "checkpoint_kb":
        weights = run.config.get("evaluate.weights", "best")
        path = run.path / "models" / f"{weights}.ckpt"
        return path.stat().st_size / 1024 if path.is_file() else math.nan
    return math.nan
