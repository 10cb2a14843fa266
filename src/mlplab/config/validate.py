"""Check a composed config before any work starts, so a typo costs a second, not a run."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from mlplab.config.schema import Config
from mlplab.errors import ConfigError


def validate(cfg: DictConfig) -> DictConfig:
    """Return `cfg` typed by the schema and range-checked; raise ConfigError naming the key."""
    plain = {k: v for k, v in cfg.items() if k != "hydra"}
    try:
        typed = OmegaConf.merge(OmegaConf.structured(Config), plain)
        OmegaConf.resolve(typed)
        # Reading every value surfaces MISSING (`???`) values and bad interpolations now.
        OmegaConf.to_container(typed, throw_on_missing=True)
    except OmegaConfBaseException as err:
        raise ConfigError(_describe(err)) from None
    _check_values(typed)
    return typed


def _describe(err: OmegaConfBaseException) -> str:
    key = getattr(err, "full_key", None)
    msg = str(getattr(err, "msg", None) or err).splitlines()[0]
    return f"config key '{key}': {msg}" if key else f"config: {msg}"


def _check_values(cfg: DictConfig) -> None:
    from mlplab.data.scaling import SCALINGS
    from mlplab.data.sources import check_source_args
    from mlplab.models.activations import ACTIVATIONS
    from mlplab.models.initializers import DISTRIBUTIONS, INIT_SCHEMES
    from mlplab.models.norms import NORMS

    _require(cfg.seed >= 0, "seed", cfg.seed, "an integer >= 0")

    data = cfg.data
    check_source_args(data.name, OmegaConf.to_container(data.source))
    _one_of("data.scaling", data.scaling, SCALINGS)
    _require(data.batch_size >= 1, "data.batch_size", data.batch_size, "an integer >= 1")
    fractions = {k: data.split[k] for k in ("train", "val", "test")}
    for name, value in fractions.items():
        _require(0 <= value < 1, f"data.split.{name}", value, "a fraction in [0, 1)")
    _require(fractions["train"] > 0, "data.split.train", fractions["train"], "a fraction > 0")
    total = sum(fractions.values())
    if not math.isclose(total, 1.0, abs_tol=1e-6):
        raise ConfigError(
            f"config keys data.split.{{train,val,test}} sum to {total:g}; they must sum to 1"
        )

    model = cfg.model
    for i, width in enumerate(model.hidden_sizes):
        _require(width >= 1, f"model.hidden_sizes[{i}]", width, "a width >= 1")
    _one_of("model.activation", model.activation, ACTIVATIONS)
    _one_of("model.norm", model.norm, NORMS)
    _require(0 <= model.dropout < 1, "model.dropout", model.dropout, "a probability in [0, 1)")
    _one_of("model.init.scheme", model.init.scheme, INIT_SCHEMES)
    _one_of("model.init.distribution", model.init.distribution, DISTRIBUTIONS)
    _require(model.init.scale > 0, "model.init.scale", model.init.scale, "a number > 0")

    _check_target("optimizer", cfg.optimizer)
    lr = cfg.optimizer.get("lr")
    _require(isinstance(lr, int | float) and lr > 0, "optimizer.lr", lr, "a learning rate > 0")
    _one_of("scheduler.interval", cfg.scheduler.interval, ("epoch", "step"))
    if cfg.scheduler.scheduler is not None:
        _check_target("scheduler.scheduler", cfg.scheduler.scheduler)

    for group in ("callbacks", "logger"):
        for name, node in cfg[group].items():
            if node is not None:
                _check_target(f"{group}.{name}", node)
    _check_target("trainer", cfg.trainer)
    epochs = cfg.trainer.get("max_epochs")
    _require(
        isinstance(epochs, int) and epochs >= 1, "trainer.max_epochs", epochs, "an integer >= 1"
    )
    clip = cfg.trainer.get("gradient_clip_val")
    _require(
        clip is None or (isinstance(clip, int | float) and clip >= 0),
        "trainer.gradient_clip_val",
        clip,
        "null or a number >= 0",
    )
    _one_of(
        "trainer.gradient_clip_algorithm",
        cfg.trainer.get("gradient_clip_algorithm", "norm"),
        ("norm", "value"),
    )
    _require(cfg.evaluate.batch_size >= 1, "evaluate.batch_size", cfg.evaluate.batch_size, ">= 1")


def _require(ok: bool, key: str, value: Any, allowed: str) -> None:
    if not ok:
        raise ConfigError(f"config key '{key}' is {value!r}; it must be {allowed}")


def _one_of(key: str, value: Any, allowed: Iterable[str]) -> None:
    allowed = sorted(allowed)
    if value not in allowed:
        raise ConfigError(f"config key '{key}' is {value!r}; allowed values: {', '.join(allowed)}")


def _check_target(key: str, node: Any) -> None:
    if not isinstance(node, DictConfig) or not isinstance(node.get("_target_"), str):
        raise ConfigError(
            f"config key '{key}' must be a mapping with a '_target_' (a class to instantiate)"
        )
