"""Activation functions by config name.

The registry maps names to torch.nn class names rather than classes, so config validation
can list the valid names without importing torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from torch import nn

ACTIVATIONS: dict[str, str] = {
    "identity": "Identity",
    "sigmoid": "Sigmoid",
    "tanh": "Tanh",
    "relu": "ReLU",
    "leaky_relu": "LeakyReLU",
    "prelu": "PReLU",
    "rrelu": "RReLU",
    "elu": "ELU",
    "selu": "SELU",
    "gelu": "GELU",
    "silu": "SiLU",
    "mish": "Mish",
    "softplus": "Softplus",
}


def make_activation(name: str) -> nn.Module:
    from torch import nn

    return getattr(nn, ACTIVATIONS[name])()
