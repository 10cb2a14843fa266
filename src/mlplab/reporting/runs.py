"""A finished run read back from its directory, for anything that compares runs (sweep summary,
src/compare.py, study reports): its config (run.json), status, scalar metrics and history; and
runs grouped by what differs between them but the seed, for statistics over seeds.

Only files: `run.json` (name, resolved config), `metrics/test.json`, `metrics/train.json`,
`plots/history.csv` and, in a failed multirun job, `error.txt`. A missing file leaves its part
empty, so an unfinished or failed run is still a row.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlplab.cli import JOB_ERROR
from mlplab.errors import DataError
from mlplab.reporting.runfiles import Columns, optional_columns

SEED = "seed"  # the config key whose runs are repeats of one setting
# Keys that name where or how a run computed, never what it computed: left out of config
# differences.
NOT_SETTINGS = ("paths.", "hydra.", "trainer.enable_progress_bar", "callbacks.progress_bar")


@dataclass(frozen=True)
class Run:
    path: Path
    name: str
    config: dict[str, Any]  # flattened: {"model.dropout": 0.1, "model.hidden_sizes": "[256, 128]"}
    status: str  # done | diverged | failed: <first line> | unfinished
    metrics: dict[str, float]  # test/* and best/val/* (the best epoch's validation metrics)
    train: dict[str, Any] = field(default_factory=dict)  # metrics/train.json as written

    def history(self) -> Columns | None:
        """plots/history.csv as {column: floats}, one row per validated epoch; None if absent."""
        return optional_columns(self.path / "plots" / "history.csv")


def read_run(path: Path) -> Run:
    record = _json(path / "run.json") or {}
    train = _json(path / "metrics" / "train.json") or {}
    test = _json(path / "metrics" / "test.json") or {}
    return Run(
        path=path,
        name=record.get("name") or path.name,
        config=flatten(record.get("config") or {}),
        status=_status(path, train, test),
        metrics=run_metrics(train, test),
        train=train,
    )


def run_metrics(train: Mapping[str, Any], test: Mapping[str, Any]) -> dict[str, float]:
    """The scalars a comparison shows, from metrics/train.json and metrics/test.json as written:
    `test/*` and the best epoch's validation metrics as `best/val/*`."""
    metrics = {k: v for k, v in test.items() if k.startswith("test/") and _number(v)}
    best = train.get("best") or {}
    metrics.update({f"best/{k}": v for k, v in best.items() if k.startswith("val/") and _number(v)})
    return metrics


def metric_names(metrics: Iterable[Mapping[str, Any]]) -> list[str]:
    """Every metric name of the rows given, in first-seen order (`test/*`, then `best/val/*`)."""
    names = list(dict.fromkeys(k for row in metrics for k in row))
    return sorted(names, key=lambda k: not k.startswith("test/"))


def seed_groups(
    settings: Sequence[Mapping[str, Any]], differ: list[str]
) -> tuple[list[str], list[tuple[tuple[Any, ...], list[int]]]] | None:
    """Repeats over seeds: when `seed` is among the `differ`ing keys of the `settings` (one
    mapping per run), the other differing keys and the runs (indices) of each of their value
    combinations, in first-seen order; None when the seed does not vary."""
    if SEED not in differ:
        return None
    keys = [k for k in differ if k != SEED]
    groups: dict[tuple[Any, ...], list[int]] = {}
    for i, setting in enumerate(settings):
        groups.setdefault(tuple(_key(setting.get(k)) for k in keys), []).append(i)
    return keys, list(groups.items())


def is_run(path: Path) -> bool:
    return (path / "run.json").is_file()


def find_runs(paths: Iterable[Path]) -> list[Path]:
    """Run directories among `paths`: a run directory itself, or every run directory below a
    folder (a multirun, a study), in name order within each folder."""
    found: list[Path] = []
    for path in paths:
        if is_run(path):
            found.append(path)
        elif path.is_dir():
            below = sorted({p.parent for p in path.rglob("run.json")}, key=_natural)
            found.extend(below)
    return list(dict.fromkeys(found))


def run_dirs(paths: list[Path]) -> list[Path]:
    """`find_runs`, raising DataError on a path that does not exist or holds no run."""
    for path in paths:
        if not path.exists():
            raise DataError(f"{path} does not exist; give run directories or a multirun folder")
        if not find_runs([path]):
            raise DataError(
                f"{path} is not a run directory (no run.json) and holds none; "
                "give run directories or a multirun folder"
            )
    return find_runs(paths)


def differences(runs: list[Run]) -> list[str]:
    """The config keys whose values differ between runs, in config order."""
    keys = list(dict.fromkeys(k for r in runs for k in r.config))
    return [
        k
        for k in keys
        if not k.startswith(NOT_SETTINGS) and len({_key(r.config.get(k)) for r in runs}) > 1
    ]


def flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        if isinstance(value, Mapping) and value:
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = _key(value) if isinstance(value, list | dict) else value
    return flat


def _key(value: Any) -> Any:
    return json.dumps(value) if isinstance(value, list | dict) else value


def _natural(path: Path) -> tuple[Any, ...]:
    """Multirun job folders `2_...` before `10_...`."""
    head = path.name.split("_", 1)[0]
    return (str(path.parent), int(head) if head.isdigit() else math.inf, path.name)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _status(path: Path, train: Mapping[str, Any], test: Mapping[str, Any]) -> str:
    if train.get("diverged"):
        return "diverged"
    if (path / JOB_ERROR).is_file():
        return "failed: " + ((path / JOB_ERROR).read_text().strip().splitlines() or [""])[0]
    return "done" if test else "unfinished"
