"""Build an MLP from a plain spec: hidden blocks Linear -> [norm] -> activation -> [dropout].

The spec is a frozen dataclass of plain values, so other builders (e.g. a batched, many-models
form) can consume the same spec. Hidden blocks are named `hidden_0`, `hidden_1`, ... so
callbacks can find them.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from torch import nn

from mlplab.models.activations import make_activation
from mlplab.models.initializers import init_linear, resolve_scheme
from mlplab.models.norms import make_norm


@dataclass(frozen=True)
class MLPSpec:
    in_features: int
    out_features: int
    hidden_sizes: tuple[int, ...] = (256, 128)
    activation: str = "relu"
    norm: str = "none"
    dropout: float = 0.0
    init_scheme: str = "auto"
    init_distribution: str = "normal"
    init_scale: float = 1.0


def hidden_block(spec: MLPSpec, in_features: int, width: int) -> nn.Sequential:
    norm = make_norm(spec.norm, width)
    layers: OrderedDict[str, nn.Module] = OrderedDict()
    # No bias before a norm: the norm's own shift (BatchNorm's beta) replaces it.
    layers["linear"] = nn.Linear(in_features, width, bias=norm is None)
    if norm is not None:
        layers["norm"] = norm
    layers["activation"] = make_activation(spec.activation)
    if spec.dropout > 0:
        layers["dropout"] = nn.Dropout(spec.dropout)
    return nn.Sequential(layers)


def build_mlp(spec: MLPSpec) -> nn.Sequential:
    blocks: OrderedDict[str, nn.Module] = OrderedDict()
    width_in = spec.in_features
    for i, width in enumerate(spec.hidden_sizes):
        blocks[f"hidden_{i}"] = hidden_block(spec, width_in, width)
        width_in = width
    blocks["output"] = nn.Linear(width_in, spec.out_features)
    net = nn.Sequential(blocks)
    scheme = resolve_scheme(spec.init_scheme, spec.activation)
    for module in net.modules():
        if isinstance(module, nn.Linear):
            init_linear(module, scheme, spec.init_distribution, spec.init_scale)
    return net
