"""K runs of one shape trained at once as one stacked network (models/stacked.py).

A Hydra sweep of train.py (`-m seed=range(16)`) goes through the batched launcher
(hydra_plugins/mlplab_launcher): each job first runs up to `train()`, which, while the launcher
collects, hands its config back (`Deferred`) when the run can share a network with others.
Jobs whose configs differ only in `BATCHABLE` keys form a group; `train_group` trains the group
and keeps each run's result; the launcher then runs every job again, and `train()` returns that
run's result (or raises its error) instead of training, so the rest of train.py (the test
table, metrics/test.json) is the same code for both paths.

Each run of a group is a normal run afterwards: its own directory with models/best.ckpt and
last.ckpt (Lightning checkpoints that evaluate.py and predict.py load unchanged),
plots/history.csv, plots/lr.csv, metrics/train.json, TensorBoard events under its own name;
per-run early stopping, checkpoint choice and divergence (a stopped run is left alone, a
diverged one fails alone). Not recorded in batched runs: diagnostics/ (train a run alone to see
inside it). Batched runs cannot be resumed; a stopped sweep is run again.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from omegaconf import DictConfig

from mlplab.config.rules import plain

# Config keys whose values may differ inside one group: none of them changes a tensor shape.
BATCHABLE = (
    "seed",
    "model.init",
    "model.dropout",  # the rates; whether a layer has dropout at all is part of the shape
    "optimizer",
    "scheduler",
    "regularization",
    "objective.label_smoothing",
    "data.augment",
    "callbacks.early_stopping",
)
# Callbacks the batched loop does itself (or, diagnostics and the progress bar, leaves out).
HANDLED_CALLBACKS = (
    "divergence",
    "early_stopping",
    "model_checkpoint",
    "last_checkpoint",
    "lr_monitor",
    "progress_bar",
    "diagnostics",
)
NOT_IN_KEY = ("hydra", "resume")
ENGINES = ("auto", "lightning", "stacked")  # runtime.engine


class Deferred(BaseException):
    """Raised by `train()` while the launcher collects: this run can train in a group.
    A BaseException, so the entry script's error handling lets it through to the launcher."""

    def __init__(self, key: str, cfg: DictConfig, run_dir: Path) -> None:
        super().__init__(key)
        self.key, self.cfg, self.run_dir = key, cfg, run_dir


@dataclass
class Outcome:
    """What `train()` returns (test metrics) or raises (a diverged run) for one grouped run."""

    test: dict[str, float] = field(default_factory=dict)
    error: BaseException | None = None

    def result(self) -> dict[str, float]:
        if self.error is not None:
            raise self.error
        return self.test


_collecting = False
_outcomes: dict[Path, Outcome] = {}


@contextlib.contextmanager
def collecting() -> Iterator[None]:
    """While active, `take` defers every run that can train in a group."""
    global _collecting
    _collecting = True
    try:
        yield
    finally:
        _collecting = False


def take(cfg: DictConfig, run_dir: Path) -> Outcome | None:
    """For `train()`: this run's outcome when its group trained it; None to train it alone.
    Raises `Deferred` while the launcher collects and the run can be grouped."""
    outcome = _outcomes.pop(run_dir.resolve(), None)
    if outcome is not None:
        return outcome
    if _collecting and cfg.runtime.engine != "lightning":
        key = group_key(cfg)
        if key is not None:
            raise Deferred(key, cfg, run_dir)
    return None


def why_alone(cfg: DictConfig) -> str | None:
    """What in `cfg` the stacked loop cannot train (None: it can), in words."""
    trainer, model = cfg.trainer, cfg.model
    other = [k for k, v in cfg.callbacks.items() if v is not None and k not in HANDLED_CALLBACKS]
    reasons = {
        "more than one device (DDP)": trainer.devices not in (1, "1") or trainer.num_nodes != 1,
        f"trainer.precision={trainer.precision}": str(trainer.precision) not in ("32-true", "32"),
        "a trainer.strategy": trainer.get("strategy") not in (None, "auto"),
        "trainer.accumulate_grad_batches": trainer.accumulate_grad_batches != 1,
        "trainer.max_steps": trainer.max_steps != -1,
        "trainer.val_check_interval": trainer.val_check_interval is not None,
        "runtime.compile": cfg.runtime.compile,
        "resume": cfg.resume is not False,
        "lr_find.apply": cfg.lr_find.apply,
        "token (embedding) input": model.input.kind != "dense",
        f"model.activation={model.activation}": model.activation in ("prelu", "rrelu"),
        "model.norm=layernorm": model.norm == "layernorm",
        "AlphaDropout (selu, model.dropout_type=alpha)": model.activation == "selu"
        or model.dropout_type == "alpha",
        f"callbacks {', '.join(other)}": bool(other),
    }
    found = [reason for reason, applies in reasons.items() if applies]
    return found[0] if found else None


def group_key(cfg: DictConfig) -> str | None:
    """Runs with equal keys can train as one network; None: this run trains alone."""
    if why_alone(cfg) is not None:
        return None
    model = plain(cfg.model)
    values = {k: v for k, v in plain(cfg).items() if k not in NOT_IN_KEY}
    from mlplab.models.dropout import per_layer

    has_dropout = [p > 0 for p in per_layer(model["dropout"], len(model["hidden_sizes"]))]
    for dotted in BATCHABLE:
        *parents, last = dotted.split(".")
        node = values
        for part in parents:
            node = node[part]
        node.pop(last, None)
    values["model"]["has_dropout"] = has_dropout
    return json.dumps(values, sort_keys=True, default=str)


def keep(outcomes: dict[Path, Outcome]) -> None:
    """The group's outcomes, each returned by `take` to its own run."""
    for run_dir, outcome in outcomes.items():
        _outcomes[run_dir.resolve()] = outcome
