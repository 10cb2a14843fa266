"""A study's runs grouped by setting: the runs of one sweep that differ only in seed form an
`Arm`, and `value` reads any of a run's numbers by name (test/*, best/val/*, final/*,
metrics/train.json's top-level numbers, checkpoint_kb)."""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass
from pathlib import Path

import yaml

from mlplab.config.study import Study
from mlplab.reporting.runs import Run, find_runs, read_run


@dataclass(frozen=True)
class Arm:
    """One setting of a study: its runs differ only in seed."""

    label: str
    sweep: str
    settings: dict[str, str]  # its overrides that not every run of the study shares
    runs: tuple[Run, ...]

    def values(self, metric: str) -> list[float]:
        return [value(run, metric) for run in self.runs]


def read_arms(study: Study, study_dir: Path) -> list[Arm]:
    """The study's runs grouped by setting (a sweep job's overrides but its seed), in sweep
    order, then in the order each sweep ran. An arm is labelled by the overrides that vary
    within its sweep (`relu`, or `optimizer: sgd` when the study has several sweeps)."""
    runs = [read_run(p) for p in find_runs([study_dir])]
    runs = [r for r in runs if r.path.parent.name in study.sweeps]
    runs.sort(key=lambda r: list(study.sweeps).index(r.path.parent.name))
    overrides = {r.path: _overrides(r.path) for r in runs}
    common = set.intersection(*(set(o.items()) for o in overrides.values())) if runs else set()
    groups: dict[tuple[str, tuple[tuple[str, str], ...]], list[Run]] = {}
    for run in runs:
        own = tuple((k, v) for k, v in overrides[run.path].items() if (k, v) not in common)
        groups.setdefault((run.path.parent.name, own), []).append(run)
    arms = []
    for (sweep, own), members in groups.items():
        in_sweep = [overrides[r.path] for r in runs if r.path.parent.name == sweep]
        varying = [k for k, _ in own if len({o.get(k) for o in in_sweep}) > 1]
        text = ", ".join(v for k, v in own if k in varying)
        if len(study.sweeps) > 1:
            text = f"{sweep}: {text}" if text else sweep
        label = study.labels.get(text, text)
        arms.append(Arm(label, sweep, dict(own), tuple(members)))
    return arms


def _overrides(run_dir: Path) -> dict[str, str]:
    """The job's command-line overrides (Hydra's .hydra/overrides.yaml), its seed left out."""
    path = run_dir / ".hydra" / "overrides.yaml"
    listed = yaml.safe_load(path.read_text()) if path.is_file() else []
    pairs = (o.lstrip("+~").split("=", 1) for o in listed or [] if "=" in o)
    return {k: v for k, v in pairs if k != "seed"}


def value(run: Run, metric: str) -> float:
    """A run's number for `metric`: its metrics (test/*, best/val/*), `final/<metric>` (the last
    epoch's, metrics/train.json), train.json's top-level numbers (epochs_trained,
    weight_sparsity, nonzero_weights, ...), `checkpoint_kb` (the tested checkpoint's size) or
    `checkpoint_gzip_kb` (its size compressed, zlib level 6)."""
    if metric in run.metrics:
        return float(run.metrics[metric])
    if metric.startswith("final/"):
        value = (run.train.get("final") or {}).get(metric.removeprefix("final/"))
    else:
        value = run.train.get(metric)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if metric in ("checkpoint_kb", "checkpoint_gzip_kb"):
        path = run.path / "models" / f"{run.config.get('evaluate.weights')}.ckpt"
        if not path.is_file():
            return math.nan
        if metric == "checkpoint_kb":
            return path.stat().st_size / 1024
        return len(zlib.compress(path.read_bytes(), 6)) / 1024  # what zeros save on disk
    return math.nan
