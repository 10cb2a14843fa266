"""Weight initialisation by config name, matched to the activation when `auto`.

Variance scaling (Glorot, He, LeCun) draws weights with variance gain / fan, from a normal
or a uniform distribution; `scale` multiplies the result. Biases start at zero.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from torch import nn

# scheme -> (gain, fan) for variance scaling; fan_avg is (fan_in + fan_out) / 2.
VARIANCE_SCALING: dict[str, tuple[float, str]] = {
    "glorot": (1.0, "fan_avg"),
    "he": (2.0, "fan_in"),
    "lecun": (1.0, "fan_in"),
}
INIT_SCHEMES = ("auto", "default", "zeros", *VARIANCE_SCALING)
DISTRIBUTIONS = ("normal", "uniform")

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


def resolve_scheme(scheme: str, activation: str) -> str:
    return AUTO_SCHEME[activation] if scheme == "auto" else scheme


def init_linear(
    layer: nn.Linear, scheme: str, distribution: str = "normal", scale: float = 1.0
) -> None:
    """Initialise one Linear layer in place."""
    import torch

    if scheme == "default":  # PyTorch's own kaiming_uniform(a=sqrt(5)), kept for comparison
        layer.reset_parameters()
        with torch.no_grad():
            layer.weight.mul_(scale)
        return
    with torch.no_grad():
        if layer.bias is not None:
            layer.bias.zero_()
        if scheme == "zeros":
            layer.weight.zero_()
            return
        gain, fan_mode = VARIANCE_SCALING[scheme]
        fan_out, fan_in = layer.weight.shape
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[fan_mode]
        std = scale * math.sqrt(gain / fan)
        if distribution == "normal":
            layer.weight.normal_(0.0, std)
        else:
            bound = std * math.sqrt(3.0)
            layer.weight.uniform_(-bound, bound)
