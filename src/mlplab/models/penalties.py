"""L1 and L2 penalties on weight matrices, added to the data loss by the LightningModule.

Pure functions of the weights, so tests can check them against hand sums. They cover weight
matrices only (the tensors weight decay applies to), never biases or norm parameters: shifting
or scaling a unit is not model complexity.

L2 here is makemore's explicit penalty, l2 * sum(w^2); its gradient is 2 * l2 * w, so makemore's
update `grad + weight_decay * w` is l2 = weight_decay / 2. With Adam, an explicit L2 penalty is
rescaled per parameter by the adaptive step; AdamW's decoupled `optimizer.weight_decay` is not.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import torch

PENALTIES = ("l1_penalty", "l2_penalty")


def l1_penalty(weights: Iterable[torch.Tensor], coefficient: float) -> torch.Tensor:
    """coefficient * sum of |w| over all given tensors."""
    return coefficient * _total(w.abs().sum() for w in weights)


def l2_penalty(weights: Iterable[torch.Tensor], coefficient: float) -> torch.Tensor:
    """coefficient * sum of w^2 over all given tensors."""
    return coefficient * _total(w.square().sum() for w in weights)


def penalties(weights: Sequence[torch.Tensor], l1: float, l2: float) -> dict[str, torch.Tensor]:
    """The switched-on penalties by log name; empty when both coefficients are 0."""
    terms: dict[str, torch.Tensor] = {}
    if l1 > 0:
        terms["l1_penalty"] = l1_penalty(weights, l1)
    if l2 > 0:
        terms["l2_penalty"] = l2_penalty(weights, l2)
    return terms


def _total(sums: Iterable[torch.Tensor]) -> torch.Tensor:
    parts = list(sums)
    return torch.stack(parts).sum() if parts else torch.zeros(())
