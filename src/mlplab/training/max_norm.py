"""The max-norm constraint (Srivastava et al. 2014, the dropout paper) as a Lightning callback.

After every optimizer step, each hidden unit's vector of incoming weights (one row of its
Linear layer's weight) is rescaled to an L2 norm of at most `max_norm`, c = 3-4 in the paper.
Unlike an L2 penalty it never shrinks small weights; it only caps how large a unit's input can
grow, which lets dropout nets train with large learning rates without blowing up.
"""

from __future__ import annotations

from typing import Any

import lightning as L
import torch
from torch import nn

from mlplab.training.weights import hidden_linears, weight_of


def constrain(linears: list[nn.Linear], max_norm: float) -> None:
    """Rescale in place every row of each weight whose L2 norm exceeds max_norm."""
    with torch.no_grad():
        for linear in linears:
            weight_of(linear).renorm_(p=2, dim=0, maxnorm=max_norm)


class MaxNorm(L.Callback):
    def __init__(self, max_norm: float) -> None:
        """`max_norm` > 0 is checked with the config (training/checks.py)."""
        self.max_norm = float(max_norm)

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        # The first forward pass already sees constrained weights.
        constrain(hidden_linears(pl_module), self.max_norm)

    def on_train_batch_end(
        self,
        trainer: L.Trainer,
        pl_module: L.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
    ) -> None:
        # Lightning has no hook right after optimizer.step(); this one runs after it, before the
        # next forward. With gradient accumulation it also runs on batches without a step,
        # where the projection changes nothing.
        constrain(hidden_linears(pl_module), self.max_norm)
