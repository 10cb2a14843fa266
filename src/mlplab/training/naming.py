"""A run's name and where its TensorBoard events go: one string in its directory, TensorBoard
and run.json.

`tensorboard --logdir logs` names a run by its directory under logs/, so the events go where
that directory says what the run is:

| run | events in | name |
|---|---|---|
| `python src/train.py model.dropout=0.3` | its run directory | `runs/<time>_model.dropout-0.3` |
| a `-m` job | its job directory | `multiruns/<time>/3_seed-2` |
| `dvc exp run` (queued too) | `$DVC_ROOT/logs/exps/<experiment>/` | `exps/<experiment>` |
| `dvc repro` (run directory `.`) | `logs/pipeline/` | `pipeline` |

A queued experiment runs in a temporary copy of the repository that DVC deletes afterwards;
DVC_ROOT names the repository it was queued from, so its events outlive the copy.
"""

from __future__ import annotations

import os
from pathlib import Path

LOGS = "logs"  # TensorBoard's --logdir: configs/hydra/default.yaml's logs/runs, logs/multiruns


def dvc_experiment() -> str | None:
    """The name of the DVC experiment running this process (`dvc exp run`), else None."""
    return os.environ.get("DVC_EXP_NAME") or None


def _logs_root() -> Path:
    return Path(os.environ.get("DVC_ROOT") or ".") / LOGS


def tensorboard_dir(run_dir: Path) -> Path:
    """Where the run's TensorBoard events go (see the table above)."""
    experiment = dvc_experiment()
    if experiment is not None:
        return _logs_root() / "exps" / experiment
    if Path(run_dir).resolve() == Path.cwd().resolve():
        return Path(LOGS) / "pipeline"
    return Path(run_dir)


def run_name(run_dir: Path) -> str:
    """The run's TensorBoard name: its events directory relative to logs/ (a directory
    elsewhere, given with hydra.run.dir, by its own name)."""
    events = tensorboard_dir(run_dir).resolve()
    root = _logs_root().resolve()
    return events.relative_to(root).as_posix() if events.is_relative_to(root) else events.name
