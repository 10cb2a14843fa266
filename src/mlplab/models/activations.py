"""Activation functions by config name, with the arguments each may take.

The registries map names to torch.nn class names and argument names rather than classes, so
config validation can list and check them without importing torch.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from mlplab.errors import ConfigError

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
    "silu": "SiLU",  # swish with beta 1
    "mish": "Mish",
    "softplus": "Softplus",
}

# The constructor arguments `model.activation_args` may set: a number, or one of given strings.
# `inplace` is never offered: an in-place activation overwrites the pre-activation that a norm
# placed before it, or a diagnostics hook, still needs. PReLU's `num_parameters` is left out
# because one slope per unit would need a different count for every hidden width.
NUMBER = "a number"
ACTIVATION_ARGS: dict[str, dict[str, str | tuple[str, ...]]] = {
    "leaky_relu": {"negative_slope": NUMBER},
    "prelu": {"init": NUMBER},
    "rrelu": {"lower": NUMBER, "upper": NUMBER},
    "elu": {"alpha": NUMBER},
    "gelu": {"approximate": ("none", "tanh")},
    "softplus": {"beta": NUMBER, "threshold": NUMBER},
}


def check_activation_args(name: str, args: Mapping[str, Any]) -> None:
    """Raise ConfigError unless every key of `args` is an argument `name` takes, of its kind."""
    allowed = ACTIVATION_ARGS.get(name, {})
    for key, value in args.items():
        where = f"config key 'model.activation_args.{key}'"
        if key not in allowed:
            names = ", ".join(sorted(allowed)) or "(none)"
            raise ConfigError(f"{where} is not an argument of {name!r}; allowed keys: {names}")
        kind = allowed[key]
        if kind == NUMBER:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ConfigError(f"{where} is {value!r}; it must be {NUMBER}")
        elif value not in kind:
            raise ConfigError(f"{where} is {value!r}; allowed values: {', '.join(kind)}")


def make_activation(name: str, args: Mapping[str, Any]) -> nn.Module:
    from torch import nn

    return getattr(nn, ACTIVATIONS[name])(**dict(args))
