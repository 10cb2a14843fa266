"""Stochastic weight averaging (Izmailov et al. 2018) with Lightning's callback.

Lightning's StochasticWeightAveraging handles a model with BatchNorm by adding one epoch after
`trainer.max_epochs`: it loads the averaged weights, re-estimates the running statistics in a
pass without backward or optimizer steps, and validates, so ModelCheckpoint sees the averaged
model like any other epoch. A model without BatchNorm only gets the averaged weights copied in
when training ends, after the last validation and checkpoint, so they are never scored or saved.
This subclass gives every model that extra epoch: the averaged weights are always validated,
the last row of plots/history.csv is theirs, `models/last.ckpt` holds them, and `models/best.ckpt`
does too whenever they validate best.
"""

from __future__ import annotations

from typing import Literal

import lightning as L
from lightning.pytorch.callbacks import StochasticWeightAveraging


class AveragedWeights(StochasticWeightAveraging):
    """StochasticWeightAveraging whose averaged weights always get a validated final epoch."""

    def __init__(
        self,
        swa_lrs: float | list[float],
        swa_epoch_start: int | float,
        annealing_epochs: int,
        annealing_strategy: Literal["cos", "linear"],
    ) -> None:
        """Every argument from configs/callbacks/swa.yaml: none falls back to Lightning's."""
        super().__init__(
            swa_lrs=swa_lrs,
            swa_epoch_start=swa_epoch_start,
            annealing_epochs=annealing_epochs,
            annealing_strategy=annealing_strategy,
        )

    @staticmethod
    def pl_module_contains_batch_norm(pl_module: L.LightningModule) -> bool:
        # Lightning adds the final no-backward epoch only for BatchNorm models; resetting running
        # statistics in a model without BatchNorm is a no-op, so the epoch is safe for any model.
        return True
