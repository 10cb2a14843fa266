"""Which weights the weight-shaping callbacks act on, and how sparse a model's weights are."""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn


def hidden_linears(root: nn.Module) -> list[nn.Linear]:
    """The Linear layers inside the MLP's hidden blocks (`hidden_0`, `hidden_1`, ...).

    The output layer is left out: max-norm bounds hidden units (Srivastava et al. 2014), and
    pruning the output layer would delete classes rather than features.
    """
    return [
        module
        for name, module in root.named_modules()
        if isinstance(module, nn.Linear) and any(p.startswith("hidden_") for p in name.split("."))
    ]


def weight_of(linear: nn.Linear) -> torch.Tensor:
    """The trainable weight: `weight_orig` while pruning is active (`weight` = orig * mask)."""
    return getattr(linear, "weight_orig", linear.weight)


def weight_sparsity(state_dict: Mapping[str, torch.Tensor]) -> float:
    """The fraction of exact zeros among a model's weight matrices (2-D `*.weight` tensors).

    Biases and norm parameters (1-D) are not counted. A state dict with pruning still active
    (`weight_orig` + `weight_mask`) counts the mask's zeros.
    """
    zeros = total = 0
    for key, tensor in state_dict.items():
        if tensor.ndim != 2 or not key.endswith(("weight", "weight_mask")):
            continue
        zeros += int((tensor == 0).sum())
        total += tensor.numel()
    return zeros / total if total else 0.0
