"""Build callbacks, loggers and the Trainer from their config groups with hydra instantiate."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import lightning as L
from hydra.utils import get_class, instantiate
from lightning.pytorch.callbacks import LearningRateMonitor, ModelCheckpoint, ProgressBar

from mlplab.errors import ConfigError
from mlplab.training.tensorboard import HParam, RunTensorBoard


def _instantiate(key: str, node: dict[str, Any], **extra: Any) -> Any:
    """Instantiate one node, turning a bad argument into a ConfigError naming the key."""
    target = get_class(node["_target_"])
    accepted = inspect.signature(target).parameters
    takes_kwargs = any(p.kind is p.VAR_KEYWORD for p in accepted.values())
    for name in node:
        if not name.startswith("_") and name not in accepted and not takes_kwargs:
            raise ConfigError(
                f"config key '{key}.{name}' is not an argument of {node['_target_']}; "
                f"allowed: {', '.join(p for p in accepted if p != 'self')}"
            )
    return instantiate(node, **extra)


def build_callbacks(nodes: dict[str, Any], models_dir: Path) -> list[L.Callback]:
    callbacks = []
    for name, node in nodes.items():
        if node is None:
            continue
        callback = _instantiate(f"callbacks.{name}", node)
        if isinstance(callback, ModelCheckpoint):
            callback.dirpath = str(models_dir)
        callbacks.append(callback)
    return callbacks


def build_loggers(
    nodes: dict[str, Any], run_dir: Path, events_dir: Path, hparams: dict[str, HParam], fresh: bool
) -> list[Any]:
    """The configured loggers. RunTensorBoard writes into `events_dir` (training/naming.py)
    with `hparams`; `fresh` (not a resumed run) clears the events a previous run left there.
    Any other logger gets `save_dir=<run dir>`."""
    loggers = []
    for name, node in nodes.items():
        if node is None:
            continue
        if issubclass(get_class(node["_target_"]), RunTensorBoard):
            extra: dict[str, Any] = dict(
                log_dir=str(events_dir), run_hparams=hparams, fresh=fresh, _convert_="all"
            )
        else:
            extra = dict(save_dir=str(run_dir))
        loggers.append(_instantiate(f"logger.{name}", node, **extra))
    return loggers


def build_trainer(
    node: dict[str, Any],
    callbacks: list[L.Callback],
    loggers: list[Any],
    run_dir: Path,
    **overrides: Any,
) -> L.Trainer:
    """The configured Trainer, writing under `run_dir` (callbacks find it as the Trainer's
    default_root_dir); `overrides` replace config values (e.g. for the LR finder)."""
    if not loggers:  # `logger.tensorboard=null`: LearningRateMonitor would refuse to start, and
        # plots/lr.csv holds the learning rates anyway
        callbacks = [c for c in callbacks if not isinstance(c, LearningRateMonitor)]
    # No progress callback configured (`callbacks.progress_bar=null`): no bar at all, not
    # Lightning's default one; `trainer.enable_progress_bar=false` drops a configured one.
    bars = [c for c in callbacks if isinstance(c, ProgressBar)]
    show = bool(node["enable_progress_bar"]) and bool(bars)
    if not show:
        callbacks = [c for c in callbacks if not isinstance(c, ProgressBar)]
    overrides = {"enable_progress_bar": show, **overrides}
    # The DataModule shards batches itself (data.batch_size is global), so Lightning must not
    # swap in a DistributedSampler.
    return _instantiate(
        "trainer",
        node,
        callbacks=callbacks,
        logger=loggers or False,
        use_distributed_sampler=False,
        default_root_dir=str(run_dir),
        **overrides,
    )
