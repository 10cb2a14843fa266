"""Build an MLP from a plain spec: [input] -> hidden blocks -> output Linear.

A hidden block is Linear -> [norm] -> activation -> [dropout], or Linear -> activation -> norm
-> [dropout] with the norm after. The spec is a frozen dataclass of plain values, so other
builders (e.g. a batched, many-models form) can consume the same spec. Hidden blocks are named
`hidden_0`, `hidden_1`, ... so callbacks can find them.
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from torch import nn

from mlplab.models.activations import make_activation
from mlplab.models.dropout import make_dropout, per_layer
from mlplab.models.initializers import activation_gain, init_linear, resolve_scheme
from mlplab.models.inputs import input_layers, input_width
from mlplab.models.norms import make_norm


@dataclass(frozen=True)
class MLPSpec:
    """Every field is required: the values come from the `model` config node (configs/model/)."""

    # For token input, in_features is the number of token columns (= context_length).
    in_features: int
    out_features: int
    hidden_sizes: tuple[int, ...]
    activation: str
    norm: str
    dropout: float | tuple[float, ...]  # one for every block, or one per block
    init_scheme: str
    init_distribution: str
    init_scale: float
    activation_args: tuple[tuple[str, Any], ...]  # sorted (name, value) pairs
    norm_position: str
    dropout_type: str
    input_kind: str
    vocab_size: int | None
    context_length: int | None
    embedding_dim: int | None
    init_mode: str | None
    init_value: float
    init_std: float
    init_a: float

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> MLPSpec:
        """Rebuild from `to_dict`'s form (lists and dicts, as checkpoints store them)."""
        values = dict(values)
        values["hidden_sizes"] = tuple(values["hidden_sizes"])
        if isinstance(values["dropout"], list | tuple):
            values["dropout"] = tuple(values["dropout"])
        values["activation_args"] = tuple(sorted(dict(values["activation_args"]).items()))
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """Plain lists and dicts, for hyperparameters and hparams.yaml."""
        values = dataclasses.asdict(self)
        values["hidden_sizes"] = list(self.hidden_sizes)
        if isinstance(self.dropout, tuple):
            values["dropout"] = list(self.dropout)
        values["activation_args"] = dict(self.activation_args)
        return values


def spec_from_config(model: Mapping[str, Any], in_features: int, out_features: int) -> MLPSpec:
    """The spec for the `model` config node (as a plain dict) and the data's shape."""
    inputs, init = model["input"], model["init"]
    values = {
        "in_features": in_features,
        "out_features": out_features,
        "hidden_sizes": model["hidden_sizes"],
        "activation": model["activation"],
        "activation_args": model["activation_args"],
        "norm": model["norm"],
        "norm_position": model["norm_position"],
        "dropout": model["dropout"],
        "dropout_type": model["dropout_type"],
        "input_kind": inputs["kind"],
        "vocab_size": inputs["vocab_size"],
        "context_length": inputs["context_length"],
        "embedding_dim": inputs["embedding_dim"],
        **{f"init_{key}": value for key, value in init.items()},
    }
    return MLPSpec.from_dict(values)


def hidden_block(spec: MLPSpec, in_features: int, width: int, dropout: float) -> nn.Sequential:
    norm = make_norm(spec.norm, width)
    layers: OrderedDict[str, nn.Module] = OrderedDict()
    # No bias before a norm: the norm's own shift (BatchNorm's beta) replaces it. With the norm
    # after the activation, the previous block's beta feeds this Linear instead, so only the
    # first block goes without a shift (accepted: one bias rule for both positions).
    layers["linear"] = nn.Linear(in_features, width, bias=norm is None)
    activation = make_activation(spec.activation, dict(spec.activation_args))
    if norm is not None and spec.norm_position == "before":
        layers["norm"] = norm
    layers["activation"] = activation
    if norm is not None and spec.norm_position == "after":
        layers["norm"] = norm
    drop = make_dropout(spec.dropout_type, dropout, spec.activation)
    if drop is not None:
        layers["dropout"] = drop
    return nn.Sequential(layers)


def build_mlp(spec: MLPSpec) -> nn.Sequential:
    blocks = input_layers(spec.input_kind, spec.vocab_size, spec.embedding_dim)
    width_in = input_width(
        spec.input_kind, spec.in_features, spec.context_length, spec.embedding_dim
    )
    dropouts = per_layer(spec.dropout, len(spec.hidden_sizes))
    for i, (width, p) in enumerate(zip(spec.hidden_sizes, dropouts, strict=True)):
        blocks[f"hidden_{i}"] = hidden_block(spec, width_in, width, p)
        width_in = width
    blocks["output"] = nn.Linear(width_in, spec.out_features)
    net = nn.Sequential(blocks)
    scheme = resolve_scheme(spec.init_scheme, spec.activation)
    gain = activation_gain(spec.activation, dict(spec.activation_args))
    for module in net.modules():
        if isinstance(module, nn.Linear):
            init_linear(
                module,
                scheme,
                spec.init_distribution,
                spec.init_scale,
                mode=spec.init_mode,
                value=spec.init_value,
                std=spec.init_std,
                a=spec.init_a,
                gain=gain,
            )
    return net
