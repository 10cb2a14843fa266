"""Weight initialisation by config name, matched to the activation when `auto`.

Variance scaling (Glorot, He, LeCun) draws weights with variance gain / fan from a normal or a
uniform distribution; `mode` swaps the fan. Orthogonal gives orthonormal rows (or columns)
times the activation's gain. `scale` multiplies the result, so the initialisation study's
"large random" init is any scheme with scale 10. Biases start at zero, except under `default`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, cast

if TYPE_CHECKING:
    from torch import nn

# scheme -> (gain, fan) for variance scaling; fan_avg is (fan_in + fan_out) / 2.
VARIANCE_SCALING: dict[str, tuple[float, str]] = {
    "glorot": (1.0, "fan_avg"),
    "he": (2.0, "fan_in"),
    "lecun": (1.0, "fan_in"),
}
ALIASES: dict[str, str] = {"xavier": "glorot", "kaiming": "he"}
FIXED_SCHEMES = ("zeros", "constant", "normal", "uniform", "orthogonal", "default")
INIT_SCHEMES = ("auto", *FIXED_SCHEMES, *VARIANCE_SCALING, *ALIASES)
DISTRIBUTIONS = ("normal", "uniform")
FAN_MODES = ("fan_in", "fan_out", "fan_avg")

# `auto`: He for the ReLU family, LeCun for SELU/ELU, Glorot for the saturating ones.
AUTO_SCHEME: dict[str, str] = {
    "relu": "he",
    "leaky_relu": "he",
    "prelu": "he",
    "rrelu": "he",
    "gelu": "he",
    "silu": "he",
    "mish": "he",
    "softplus": "he",
    "selu": "lecun",
    "elu": "lecun",
    "tanh": "glorot",
    "sigmoid": "glorot",
    "identity": "glorot",
}

# Orthogonal init's gain: torch.nn.init.calculate_gain's name for each activation. The ReLU
# family takes ReLU's sqrt(2); ELU takes 1, as LeCun does for it under `auto`.
Nonlinearity = Literal["relu", "leaky_relu", "selu", "linear", "tanh", "sigmoid"]
GAIN_NONLINEARITY: dict[str, Nonlinearity] = {
    **{name: "relu" for name, scheme in AUTO_SCHEME.items() if scheme == "he"},
    "leaky_relu": "leaky_relu",
    "selu": "selu",
    "elu": "linear",
    "tanh": "tanh",
    "sigmoid": "sigmoid",
    "identity": "linear",
}


def resolve_scheme(scheme: str, activation: str) -> str:
    """The concrete scheme: `auto` picked from the activation, aliases to their names."""
    scheme = AUTO_SCHEME[activation] if scheme == "auto" else scheme
    return ALIASES.get(scheme, scheme)


def activation_gain(activation: str, activation_args: Mapping[str, Any]) -> float:
    """The std gain that keeps activations' scale through `activation` (for orthogonal)."""
    from torch.nn.init import calculate_gain

    from mlplab.models.activations import make_activation

    nonlinearity = GAIN_NONLINEARITY[activation]
    if nonlinearity == "leaky_relu":  # the slope the layer really has, torch's default included
        slope = cast("nn.LeakyReLU", make_activation(activation, activation_args)).negative_slope
        return calculate_gain(nonlinearity, slope)
    return calculate_gain(nonlinearity)


def fan(layer: nn.Linear, mode: str) -> float:
    fan_out, fan_in = layer.weight.shape
    return {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]


def init_linear(
    layer: nn.Linear,
    scheme: str,
    distribution: str,
    scale: float,
    *,
    mode: str | None,
    value: float,
    std: float,
    a: float,
    gain: float,
) -> None:
    """Initialise one Linear layer in place with a concrete (resolved) scheme.

    `mode` overrides a variance-scaling scheme's fan; `value`, `std`, `a` are the parameters
    of `constant`, `normal` and `uniform`; `gain` is orthogonal's.
    """
    import torch

    weight = layer.weight
    with torch.no_grad():
        if scheme == "default":  # PyTorch's kaiming_uniform(a=sqrt(5)) and its bias, as a baseline
            layer.reset_parameters()
        elif scheme == "zeros":
            weight.zero_()
        elif scheme == "constant":
            weight.fill_(value)
        elif scheme == "normal":
            weight.normal_(0.0, std)
        elif scheme == "uniform":
            weight.uniform_(-a, a)
        elif scheme == "orthogonal":
            torch.nn.init.orthogonal_(weight, gain)
        else:
            variance_gain, default_mode = VARIANCE_SCALING[scheme]
            sd = math.sqrt(variance_gain / fan(layer, mode or default_mode))
            if distribution == "normal":
                weight.normal_(0.0, sd)
            else:  # U(-b, b) has variance b^2 / 3
                bound = sd * math.sqrt(3.0)
                weight.uniform_(-bound, bound)
        weight.mul_(scale)
        if scheme != "default" and layer.bias is not None:
            layer.bias.zero_()
