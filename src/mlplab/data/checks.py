"""The `data` node's rules, next to the registries they name. No torch: validation is fast."""

from __future__ import annotations

from omegaconf import DictConfig

from mlplab.config.rules import one_of, plain, require, typed
from mlplab.config.schema import Config
from mlplab.data.scaling import SCALINGS
from mlplab.data.sources import check_source_args
from mlplab.data.split import check_split_parts


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
    return checked
