"""Where a result came from: package versions, Python, git commit, hardware, config, command.

`write_run_record` puts it in the run directory as run.json; the `Provenance` callback puts
it in every checkpoint (`checkpoint["provenance"]`); the report reads it back
(reporting/summary.py).
"""

from __future__ import annotations

import functools
import json
import platform
import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from lightning.pytorch import Callback, LightningModule, Trainer
from omegaconf import DictConfig, OmegaConf

from mlplab.atomic import write_text
from mlplab.cli import command_line
from mlplab.training.naming import dvc_experiment, run_name

# What "dirty" looks at: code and config, not the pipeline outputs a run itself rewrites
# (metrics, plots, report, dvc.lock), so two `dvc repro -f` record the same state.
CODE = ("src", "configs", "params.yaml", "dvc.yaml", "pyproject.toml", "requirements.lock")
PACKAGES = ("torch", "lightning", "torchmetrics", "hydra-core", "omegaconf", "dvc", "numpy")


def git_state(cwd: str | Path = ".") -> dict[str, Any]:
    """The commit and whether code or config has uncommitted changes; nulls outside git."""

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no", "--", *CODE) if commit else None
    return {"commit": commit, "dirty": None if status is None else bool(status)}


@functools.cache  # one process, one environment: a sweep asks once per job
def environment() -> dict[str, Any]:
    """Versions, Python, git and hardware of this process: no config."""
    import torch

    versions: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = None
    gpus = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    return {
        "python": platform.python_version(),
        "packages": versions,
        "git": git_state(),
        "platform": platform.platform(),
        "cpu": platform.processor() or platform.machine(),
        "gpus": gpus,
    }


def provenance(cfg: DictConfig, run_dir: Path) -> dict[str, Any]:
    """Everything run.json holds: the run's name (its TensorBoard run, training/naming.py), the
    DVC experiment it belongs to, the environment, the command line, the resolved config."""
    config = OmegaConf.to_container(cfg, resolve=True)
    identity = {"name": run_name(run_dir), "dvc_experiment": dvc_experiment()}
    return {**identity, **environment(), "command": command_line(), "config": config}


def write_run_record(run_dir: Path, cfg: DictConfig) -> Path | None:
    """run.json in a run's own directory (one with Hydra's `.hydra/`); DVC stages run in the
    repository root and record their provenance in the checkpoint and report instead."""
    if not (run_dir / ".hydra").is_dir():
        return None
    path = run_dir / "run.json"
    write_text(path, json.dumps(provenance(cfg, run_dir), indent=2, default=str) + "\n")
    return path


class Provenance(Callback):
    """Stores the run's provenance in every checkpoint, under `provenance`."""

    def __init__(self, cfg: DictConfig, run_dir: Path) -> None:
        # Plain JSON values only: checkpoints are read back with torch.load(weights_only=True).
        self.record = json.loads(json.dumps(provenance(cfg, run_dir), default=str))

    def on_save_checkpoint(
        self, trainer: Trainer, pl_module: LightningModule, checkpoint: dict[str, Any]
    ) -> None:
        checkpoint["provenance"] = self.record
