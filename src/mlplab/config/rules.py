"""The config's types and the rule helpers every layer's checks share. Imports nothing heavy.

`typed(cfg)` merges the schema's types onto a composed config; the value rules of each part
live next to the registries they check (data/checks.py, models/checks.py, training/checks.py)
and raise through the helpers here, so every message has one shape: the key, what was given,
what is allowed.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any, cast

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import MissingMandatoryValue, OmegaConfBaseException

from mlplab.errors import ConfigError, DataError


def typed(cfg: DictConfig, schema: type) -> DictConfig:
    """`cfg` without its hydra node, typed by `schema` and resolved; ConfigError naming the key
    for a wrong type, an unknown key, a missing (`???`) value or a bad interpolation."""
    try:
        plain = {k: v for k, v in cfg.items_ex(resolve=False) if k != "hydra"}
        merged = OmegaConf.merge(OmegaConf.structured(schema), plain)
        OmegaConf.resolve(merged)
        # Reading every value surfaces MISSING (`???`) values and bad interpolations now.
        OmegaConf.to_container(merged, throw_on_missing=True)
    except OmegaConfBaseException as err:
        raise ConfigError(describe(err)) from None
    return cast(DictConfig, merged)


def plain(node: DictConfig) -> dict[str, Any]:
    """A config node as the plain dict the package's functions take (interpolations resolved)."""
    return cast(dict[str, Any], OmegaConf.to_container(node, resolve=True))


def describe(err: OmegaConfBaseException) -> str:
    key = getattr(err, "full_key", None)
    if isinstance(err, MissingMandatoryValue) and key:
        return f"config key '{key}' has no value and is required; give it, e.g. {key}=..."
    msg = str(getattr(err, "msg", None) or err).splitlines()[0]
    return f"config key '{key}': {msg}" if key else f"config: {msg}"


def require(ok: bool, key: str, value: Any, allowed: str) -> None:
    if not ok:
        raise ConfigError(f"config key '{key}' is {value!r}; it must be {allowed}")


def one_of(key: str, value: Any, allowed: Iterable[str]) -> None:
    allowed = sorted(allowed)
    if value not in allowed:
        raise ConfigError(f"config key '{key}' is {value!r}; allowed values: {', '.join(allowed)}")


def entry(node: DictConfig, name: str, key: str) -> Any:
    """`node[name]` of a free-form node (callbacks, trainer); ConfigError if it is absent."""
    if name not in node:
        raise ConfigError(f"config key '{key}.{name}' is missing; its config group sets it")
    return node[name]


def check_target(key: str, node: Any) -> None:
    if not isinstance(node, DictConfig) or not isinstance(node.get("_target_"), str):
        raise ConfigError(
            f"config key '{key}' must be a mapping with a '_target_' (a class to instantiate)"
        )


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_positive(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0


def is_probability(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value < 1


def check_checkpoint_file(path: str, key: str) -> None:
    """`path` is a checkpoint torch.save wrote (a zip archive holding data.pkl), checked
    without torch; DataError naming the file and the key otherwise."""
    if not Path(path).is_file():
        raise DataError(
            f"checkpoint {path} does not exist ({key}); train first (`dvc repro train`)"
        )
    try:
        with zipfile.ZipFile(path) as archive:
            ok = any(name.endswith("data.pkl") for name in archive.namelist())
    except (zipfile.BadZipFile, OSError):
        ok = False
    if not ok:
        raise DataError(
            f"{path} ({key}) is not a checkpoint: give a .ckpt file src/train.py wrote, "
            "e.g. models/best.ckpt"
        )
