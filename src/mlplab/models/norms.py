"""Normalisation layers by config name (torch.nn class names, so validation needs no torch)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from torch import nn

NORMS: dict[str, str | None] = {
    "none": None,
    "batchnorm": "BatchNorm1d",  # batch statistics in training, running statistics in eval
    "layernorm": "LayerNorm",  # per-row statistics: the same in training and eval, any batch
}

# Where the norm sits in a hidden block: `before` is Linear -> norm -> activation (Ioffe &
# Szegedy 2015, as in makemore); `after` is Linear -> activation -> norm.
NORM_POSITIONS = ("before", "after")


def make_norm(name: str, width: int) -> nn.Module | None:
    from torch import nn

    class_name = NORMS[name]
    return getattr(nn, class_name)(width) if class_name else None
