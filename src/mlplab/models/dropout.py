"""Dropout per hidden block: standard, or AlphaDropout that keeps SELU's self-normalisation.

Standard dropout zeroes units and rescales the rest, which changes the variance of the layer's
output; after SELU that breaks the fixed point (mean 0, variance 1) the net relies on.
AlphaDropout sets dropped units to SELU's negative saturation value and applies an affine
correction, so mean and variance are kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from torch import nn

DROPOUT_TYPES: dict[str, str] = {"standard": "Dropout", "alpha": "AlphaDropout"}
DROPOUT_CHOICES = ("auto", *DROPOUT_TYPES)


def resolve_dropout_type(kind: str, activation: str) -> str:
    """`auto` is AlphaDropout after SELU and standard dropout after anything else."""
    if kind != "auto":
        return kind
    return "alpha" if activation == "selu" else "standard"


def per_layer(dropout: float | Sequence[float], n_layers: int) -> tuple[float, ...]:
    """One probability per hidden layer, from a single number or a list (of `n_layers`, which
    the config check ensures)."""
    if isinstance(dropout, int | float):
        return (float(dropout),) * n_layers
    return tuple(float(p) for p in dropout)


def make_dropout(kind: str, p: float, activation: str) -> nn.Module | None:
    from torch import nn

    if p <= 0:
        return None
    return getattr(nn, DROPOUT_TYPES[resolve_dropout_type(kind, activation)])(p)
