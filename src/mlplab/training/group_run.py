"""One run of a stacked group (training/group.py): what it owns while the group trains, and
what it leaves behind: its checkpoints, and its test metrics logged as trainer.test logs them."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch
from omegaconf import DictConfig
from torchmetrics import MeanMetric

from mlplab.data.augment import Augmenter
from mlplab.data.batches import ShardedBatchSampler
from mlplab.data.store import Prepared
from mlplab.models.module import MLPModule
from mlplab.training.batched import Outcome
from mlplab.training.history import HistoryRecorder
from mlplab.training.tensorboard import RunTensorBoard


@dataclass
class Member:
    """One run of the group and everything it owns."""

    cfg: DictConfig
    run_dir: Path
    module: MLPModule
    generator: torch.Generator  # its dropout masks: the global RNG state of a run alone
    sampler: ShardedBatchSampler
    augmenter: Augmenter | None
    optimizer: torch.optim.Optimizer = field(init=False)
    scheduler: Any = None
    interval: str = "epoch"
    monitor: str | None = None
    stopping: Any = None  # its EarlyStopping callback object (criteria only)
    history: HistoryRecorder = field(init=False)
    loggers: list[Any] = field(default_factory=list)
    best: float = float("inf")
    done: bool = False
    outcome: Outcome | None = None
    epochs: int = 0
    steps: int = 0
    last_loss: torch.Tensor | None = None  # the last finite training loss
    kept: dict[str, dict[str, Any]] = field(default_factory=dict)  # best/last checkpoints
    val: dict[str, float] = field(default_factory=dict)  # the latest validation's metrics
    final: dict[str, torch.Tensor] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)  # in each of its checkpoints

    @property
    def models_dir(self) -> Path:
        return self.run_dir / "models"


def write_checkpoints(m: Member) -> None:
    """The run's kept checkpoints (best, last) into models/, each written beside and renamed."""
    for name, checkpoint in m.kept.items():
        path = m.models_dir / f"{name}.ckpt"
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        torch.save(checkpoint, partial)
        os.replace(partial, path)


@torch.no_grad()
def test_run(
    m: Member, prepared: Prepared, parts: Sequence[np.ndarray], device: torch.device
) -> dict[str, float]:
    """The run's test metrics from its tested weights (its final ones without a checkpoint),
    with the metric objects its module logs; logged to its TensorBoard run with best/val/*."""
    module = m.module
    tested = m.history.tested_checkpoint
    if tested is not None and tested.is_file():
        module.load_state_dict(
            torch.load(tested, map_location=device, weights_only=True)["state_dict"]
        )
    else:
        module.load_state_dict(m.final)
    module.eval()
    module.test_metrics.reset()
    mean = cast(MeanMetric, module.losses["test_loss"])
    mean.reset()
    for rows in parts:
        x = torch.from_numpy(np.asarray(prepared.X[rows])).to(device)
        y = torch.from_numpy(np.asarray(prepared.y[rows])).to(device)
        out = module(x)
        mean.update(module.task.loss(out, module.to_model_units(y)), weight=len(y))
        module.test_metrics.update(module.task.metric_inputs(module.to_target_units(out), y), y)
    test = {"test/loss": float(mean.compute())}
    test.update({k: float(v) for k, v in module.test_metrics.compute().items()})
    best = m.history.summary(None).get("best", {})
    finals = {f"best/{k}": v for k, v in best.items() if k.startswith("val/") and v is not None}
    for logger in m.loggers:
        logger.log_metrics(test, m.steps)
        if isinstance(logger, RunTensorBoard):
            logger.log_results(finals, m.steps)
    return test


def close_events(m: Member) -> None:
    """A diverged run's TensorBoard file, closed (no test, no best/val/*)."""
    for logger in m.loggers:
        if isinstance(logger, RunTensorBoard) and logger._experiment is not None:
            logger.experiment.close()


def device_for(accelerator: str) -> torch.device:
    """The device `trainer.accelerator` names (auto: CUDA when there is one)."""
    if accelerator in ("gpu", "cuda") or (accelerator == "auto" and torch.cuda.is_available()):
        return torch.device("cuda")
    if accelerator == "mps":
        return torch.device("mps")
    return torch.device("cpu")
