"""The `data` node's rules, next to the registries they name. No torch: validation is fast."""

from __future__ import annotations

import os
from pathlib import Path

from omegaconf import DictConfig

from mlplab.config.rules import one_of, plain, require, typed
from mlplab.config.schema import Config
from mlplab.data.scaling import SCALINGS
from mlplab.data.sources import check_source_args
from mlplab.data.split import check_split_parts
from mlplab.errors import ConfigError


def check_data(data: DictConfig) -> None:
    """Raise ConfigError naming the first bad `data.*` key."""
    check_source_args(data.name, plain(data.source))
    one_of("data.scaling", data.scaling, SCALINGS)
    one_of("data.target_scaling", data.target_scaling, SCALINGS)
    for key in ("noise_std", "mixup_alpha"):
        value = data.augment[key]
        require(value >= 0, f"data.augment.{key}", value, "a number >= 0 (0 turns it off)")
    require(data.batch_size >= 1, "data.batch_size", data.batch_size, "an integer >= 1")
    check_split_parts(data.split.train, data.split.val, data.split.test)


def validate_data(cfg: DictConfig) -> DictConfig:
    """What `prepare` needs: the whole config typed, its data node checked."""
    checked = typed(cfg, Config)
    check_data(checked.data)
    check_data_dir(checked.paths.data_dir, checked.data.name)
    return checked


def check_data_dir(data_dir: str, name: str) -> None:
    """Prepared data can be read from `data_dir/name`, or written there when it is missing."""
    target = Path(data_dir) / name
    if target.is_dir():
        return
    existing = next(p for p in (target, *target.parents) if p.exists() or p == Path("."))
    if existing.exists() and not existing.is_dir():
        raise ConfigError(f"config key 'paths.data_dir' is {data_dir!r}; {existing} is a file")
    if not os.access(existing if existing.exists() else ".", os.W_OK | os.X_OK):
        raise ConfigError(
            f"config key 'paths.data_dir' is {data_dir!r}, but {existing} is not writable, so "
            f"{target} cannot be prepared; choose a writable directory"
        )
