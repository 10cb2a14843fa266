"""The `model` and `objective` nodes' rules, next to the registries they name. No torch."""

from __future__ import annotations

from typing import Any

from omegaconf import DictConfig, ListConfig

from mlplab.config.rules import is_probability, one_of, plain, require
from mlplab.errors import ConfigError
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
from mlplab.models.objectives import ALL_LOSSES, OUTPUT_BOUNDS

# The metric names of each task (models/tasks.py's `metrics()`, which needs torch), so a
# callback's `monitor` is checked in a second; tests/unit/test_model_config.py keeps them equal.
TASK_METRICS = {
    "multiclass": ("acc", "auroc", "f1"),
    "binary": ("acc", "auroc", "f1"),
    "multilabel": ("acc", "auroc", "exact_match", "f1"),
    "regression": ("mae", "r2", "rmse"),
}


def check_model(model: DictConfig) -> None:
    """The `model` node: widths, names, activation arguments, dropout per layer, input, init."""
    for i, width in enumerate(model.hidden_sizes):
        require(width >= 1, f"model.hidden_sizes[{i}]", width, "a width >= 1")
    one_of("model.activation", model.activation, ACTIVATIONS)
    check_activation_args(model.activation, plain(model.activation_args))
    one_of("model.norm", model.norm, NORMS)
    one_of("model.norm_position", model.norm_position, NORM_POSITIONS)
    _check_dropout(model.dropout, len(model.hidden_sizes))
    one_of("model.dropout_type", model.dropout_type, DROPOUT_CHOICES)

    inputs = model.input
    one_of("model.input.kind", inputs.kind, INPUT_KINDS)
    if inputs.kind == "embedding":
        for key in ("vocab_size", "context_length", "embedding_dim"):
            value = inputs[key]
            need = "an integer >= 1 when model.input.kind is embedding"
            require(value is not None and value >= 1, f"model.input.{key}", value, need)

    init = model.init
    one_of("model.init.scheme", init.scheme, INIT_SCHEMES)
    one_of("model.init.distribution", init.distribution, DISTRIBUTIONS)
    if init.mode is not None:
        one_of("model.init.mode", init.mode, FAN_MODES)
        fanned = ("auto", *VARIANCE_SCALING, *ALIASES)
        need = f"null for scheme {init.scheme!r}; a fan mode applies to {', '.join(fanned)}"
        require(init.scheme in fanned, "model.init.mode", init.mode, need)
    for key in ("scale", "std", "a"):
        require(init[key] > 0, f"model.init.{key}", init[key], "a number > 0")


def check_objective_node(objective: DictConfig) -> None:
    """The `objective` node on its own; which task may use which loss is check_objective's."""
    one_of("objective.loss", objective.loss, ALL_LOSSES)
    one_of("objective.output_bound", objective.output_bound, OUTPUT_BOUNDS)
    smoothing = objective.label_smoothing
    require(0 <= smoothing < 1, "objective.label_smoothing", smoothing, "in [0, 1)")
    require(objective.huber_delta > 0, "objective.huber_delta", objective.huber_delta, "> 0")


def check_input_matches_data(inputs: dict[str, Any], meta: dict[str, Any]) -> None:
    """An embedding looks token ids up in a table: the data must be token windows (meta
    `vocab_size`, e.g. data=names) of the table's vocabulary and the configured context."""
    if inputs["kind"] != "embedding":
        return
    if "vocab_size" not in meta:
        raise ConfigError(
            "config key 'model.input.kind' is 'embedding', but the data holds features, not "
            "token ids; use token data (data=names) or model.input.kind=dense"
        )
    for key, data_value, what in (
        ("vocab_size", meta["vocab_size"], "tokens"),
        ("context_length", meta["n_features"], "token columns per row"),
    ):
        if inputs[key] != data_value:
            raise ConfigError(
                f"config key 'model.input.{key}' is {inputs[key]}, but the data has "
                f"{data_value} {what}"
            )


def _check_dropout(dropout: Any, n_layers: int) -> None:
    """One probability for every hidden layer, or a list of exactly one per hidden layer."""
    probability = "a probability in [0, 1)"
    if not isinstance(dropout, ListConfig):
        need = f"{probability}, or a list of one per hidden layer"
        require(is_probability(dropout), "model.dropout", dropout, need)
        return
    if len(dropout) != n_layers:
        raise ConfigError(
            f"config key 'model.dropout' has {len(dropout)} probabilities for {n_layers} hidden "
            "layers; give one per layer, or one number for all"
        )
    for i, p in enumerate(dropout):
        require(is_probability(p), f"model.dropout[{i}]", p, probability)
