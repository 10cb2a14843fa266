"""Check a composed config before any work starts, so a typo costs a second, not a run."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf
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
    from mlplab.models.objectives import ALL_LOSSES, OUTPUT_BOUNDS

    _require(cfg.seed >= 0, "seed", cfg.seed, "an integer >= 0")

    data = cfg.data
    check_source_args(data.name, OmegaConf.to_container(data.source))
    _one_of("data.scaling", data.scaling, SCALINGS)
    _one_of("data.target_scaling", data.target_scaling, SCALINGS)
    for key in ("noise_std", "mixup_alpha"):
        value = data.augment[key]
        _require(value >= 0, f"data.augment.{key}", value, "a number >= 0 (0 turns it off)")
    _require(data.batch_size >= 1, "data.batch_size", data.batch_size, "an integer >= 1")
    _check_split({k: data.split[k] for k in ("train", "val", "test")})

    _check_model(cfg.model)
    _check_batchnorm_batch(cfg)

    objective = cfg.objective
    _one_of("objective.loss", objective.loss, ALL_LOSSES)
    _one_of("objective.output_bound", objective.output_bound, OUTPUT_BOUNDS)
    smoothing = objective.label_smoothing
    _require(0 <= smoothing < 1, "objective.label_smoothing", smoothing, "in [0, 1)")
    _require(objective.huber_delta > 0, "objective.huber_delta", objective.huber_delta, "> 0")

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
    _check_optimisation(cfg)


def _check_batchnorm_batch(cfg: DictConfig) -> None:
    """BatchNorm's training statistics need at least two rows in each rank's batch."""
    if cfg.model.norm != "batchnorm":
        return
    devices = cfg.trainer.get("devices", 1)
    ranks = devices * cfg.trainer.get("num_nodes", 1) if isinstance(devices, int) else 1
    if cfg.data.batch_size // max(ranks, 1) < 2:
        raise ConfigError(
            f"config key 'data.batch_size' is {cfg.data.batch_size}, which gives each of "
            f"{ranks} rank(s) fewer than 2 rows: model.norm=batchnorm needs at least 2 per "
            "rank; raise data.batch_size or use model.norm=layernorm or none"
        )


def _check_model(model: DictConfig) -> None:
    """The `model` node: widths, names, activation arguments, dropout per layer, input, init."""
    from mlplab.models.activations import ACTIVATIONS, check_activation_args
    from mlplab.models.dropout import DROPOUT_CHOICES
    from mlplab.models.initializers import (
        ALIASES,
        DISTRIBUTIONS,
        FAN_MODES,
        INIT_SCHEMES,
        VARIANCE_SCALING,
    )
    from mlplab.models.inputs import INPUT_KINDS
    from mlplab.models.norms import NORM_POSITIONS, NORMS

    for i, width in enumerate(model.hidden_sizes):
        _require(width >= 1, f"model.hidden_sizes[{i}]", width, "a width >= 1")
    _one_of("model.activation", model.activation, ACTIVATIONS)
    check_activation_args(model.activation, OmegaConf.to_container(model.activation_args))
    _one_of("model.norm", model.norm, NORMS)
    _one_of("model.norm_position", model.norm_position, NORM_POSITIONS)
    _check_dropout(model.dropout, len(model.hidden_sizes))
    _one_of("model.dropout_type", model.dropout_type, DROPOUT_CHOICES)

    inputs = model.input
    _one_of("model.input.kind", inputs.kind, INPUT_KINDS)
    if inputs.kind == "embedding":
        for key in ("vocab_size", "context_length", "embedding_dim"):
            value = inputs[key]
            need = "an integer >= 1 when model.input.kind is embedding"
            _require(value is not None and value >= 1, f"model.input.{key}", value, need)

    init = model.init
    _one_of("model.init.scheme", init.scheme, INIT_SCHEMES)
    _one_of("model.init.distribution", init.distribution, DISTRIBUTIONS)
    if init.mode is not None:
        _one_of("model.init.mode", init.mode, FAN_MODES)
        fanned = ("auto", *VARIANCE_SCALING, *ALIASES)
        need = f"null for scheme {init.scheme!r}; a fan mode applies to {', '.join(fanned)}"
        _require(init.scheme in fanned, "model.init.mode", init.mode, need)
    for key in ("scale", "std", "a"):
        _require(init[key] > 0, f"model.init.{key}", init[key], "a number > 0")


def _check_optimisation(cfg: DictConfig) -> None:
    """Regularisation, scheduler `auto` values, the LR finder and the weight-shaping callbacks."""
    from mlplab.models.schedules import AUTO, AUTO_KEYS

    for key in ("l1", "l2"):
        value = cfg.regularization[key]
        _require(value >= 0, f"regularization.{key}", value, "a coefficient >= 0 (0 is off)")
    for key, value in (cfg.scheduler.scheduler or {}).items():
        if value == AUTO and key not in AUTO_KEYS:
            raise ConfigError(
                f"config key 'scheduler.scheduler.{key}' is 'auto'; only "
                f"{' and '.join(AUTO_KEYS)} may be auto"
            )
    _check_lr_find(cfg.lr_find, cfg.trainer)
    entries = {name: node for name, node in cfg.callbacks.items() if node is not None}
    kinds = {name: node._target_.rsplit(".", 1)[-1] for name, node in entries.items()}
    for name, node in entries.items():
        if kinds[name] == "MaxNorm":
            bound = node.get("max_norm", 3.0)
            need = "a norm bound > 0 (c = 3-4)"
            _require(_is_positive(bound), f"callbacks.{name}.max_norm", bound, need)
        elif kinds[name] in ("AveragedWeights", "StochasticWeightAveraging"):
            stoppers = [n for n, kind in kinds.items() if kind == "EarlyStopping"]
            if stoppers:
                raise ConfigError(
                    f"config key 'callbacks.{name}' needs callbacks.{stoppers[0]}=null: SWA "
                    "averages only in runs that reach trainer.max_epochs"
                )
            _check_swa(f"callbacks.{name}", node, cfg.trainer.max_epochs)
        elif kinds[name] == "HiddenLayerPruning":
            _check_pruning(f"callbacks.{name}", node, cfg.trainer.max_epochs)
            if not cfg.model.hidden_sizes:
                raise ConfigError(f"config key 'callbacks.{name}' prunes hidden layers; none exist")


def _check_lr_find(find: DictConfig, trainer: DictConfig) -> None:
    _require(find.min_lr > 0, "lr_find.min_lr", find.min_lr, "a learning rate > 0")
    _require(find.max_lr > find.min_lr, "lr_find.max_lr", find.max_lr, "> lr_find.min_lr")
    # Lightning's suggestion skips the first 10 and the last point and needs 2 more.
    steps = find.num_training
    _require(steps >= 13, "lr_find.num_training", steps, "an integer >= 13")
    _one_of("lr_find.mode", find.mode, ("exponential", "linear"))
    threshold = find.early_stop_threshold
    need = "null (never stop) or a loss ratio > 1"
    _require(threshold is None or threshold > 1, "lr_find.early_stop_threshold", threshold, need)
    if find.apply:
        one_device = trainer.get("devices") == 1 and trainer.get("num_nodes", 1) == 1
        need = "1 (and trainer.num_nodes 1) with lr_find.apply: the range test runs on one device"
        _require(one_device, "trainer.devices", trainer.get("devices"), need)


def _check_swa(key: str, node: DictConfig, epochs: int) -> None:
    _require(_is_positive(node.get("swa_lrs")), f"{key}.swa_lrs", node.get("swa_lrs"), "> 0")
    start = node.get("swa_epoch_start", 0.8)
    ok = 0 < start <= 1 if isinstance(start, float) else _is_int(start) and 1 <= start <= epochs
    need = f"a fraction in (0, 1] of trainer.max_epochs, or an epoch in 1..{epochs}"
    _require(ok, f"{key}.swa_epoch_start", start, need)


def _check_pruning(key: str, node: DictConfig, epochs: int) -> None:
    amount, at_epoch = node.get("amount", 0.5), node.get("at_epoch", 0)
    ok = _is_probability(amount) and amount > 0
    _require(ok, f"{key}.amount", amount, "a fraction in (0, 1) of the hidden weights")
    need = f"an epoch in 0..{epochs - 1} (trainer.max_epochs is {epochs})"
    _require(_is_int(at_epoch) and 0 <= at_epoch < epochs, f"{key}.at_epoch", at_epoch, need)
    structured = str(node.get("pruning_fn")).endswith("_structured")
    if structured and node.get("pruning_dim") is None:
        raise ConfigError(f"config key '{key}.pruning_dim' is missing; 0 prunes whole hidden units")
    if node.get("pruning_fn") == "ln_structured" and node.get("pruning_norm") is None:
        raise ConfigError(f"config key '{key}.pruning_norm' is missing, e.g. 2 for the L2 norm")


def _is_positive(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_dropout(dropout: Any, n_layers: int) -> None:
    """One probability for every hidden layer, or a list of exactly one per hidden layer."""
    probability = "a probability in [0, 1)"
    if not isinstance(dropout, ListConfig):
        need = f"{probability}, or a list of one per hidden layer"
        _require(_is_probability(dropout), "model.dropout", dropout, need)
        return
    if len(dropout) != n_layers:
        raise ConfigError(
            f"config key 'model.dropout' has {len(dropout)} probabilities for {n_layers} hidden "
            "layers; give one per layer, or one number for all"
        )
    for i, p in enumerate(dropout):
        _require(_is_probability(p), f"model.dropout[{i}]", p, probability)


def _is_probability(p: Any) -> bool:
    return isinstance(p, int | float) and not isinstance(p, bool) and 0 <= p < 1


def _check_split(parts: dict[str, float]) -> None:
    """All fractions in (0, 1) summing to 1, or all whole row counts >= 1."""
    counts = [v >= 1 and float(v).is_integer() for v in parts.values()]
    if all(counts):
        return
    for name, value in parts.items():
        _require(
            0 < value < 1,
            f"data.split.{name}",
            value,
            "a fraction in (0, 1), or a row count >= 1 for all three parts",
        )
    total = sum(parts.values())
    if not math.isclose(total, 1.0, abs_tol=1e-6):
        raise ConfigError(
            f"config keys data.split.{{train,val,test}} sum to {total:g}; they must sum to 1"
        )


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
