"""Magnitude pruning (Han et al. 2015) of the hidden Linear weights with Lightning's ModelPruning.

ModelPruning's defaults suit iterative lottery-ticket experiments: it prunes every parameter
of every layer, at the end of every epoch, and rewinds the survivors to their initial values.
This subclass fixes the choices the config should not have to spell out: only the hidden
Linear weights, once, at the start of epoch `at_epoch` (after that many epochs of training), no
rewinding, and the pruning made permanent in checkpoints (plain `weight` tensors with zeros), so
every checkpoint loads into an ordinary MLP.

Pruning at an epoch's start rather than its end keeps checkpoints honest: Lightning validates
before the epoch-end hooks and ModelCheckpoint saves after them, so weights pruned at an epoch's
end would be saved under the validation loss of the unpruned model.
"""

from __future__ import annotations

import lightning as L
from lightning.pytorch.callbacks import ModelPruning

from mlplab.training.weights import hidden_linears


class HiddenLayerPruning(ModelPruning):
    amount: float  # a fraction, never ModelPruning's per-epoch callable

    def __init__(
        self,
        pruning_fn: str,
        amount: float,
        at_epoch: int,
        pruning_norm: int | float | None,
        pruning_dim: int | None,
        verbose: int,
    ) -> None:
        """Zero `amount` (a fraction) of the hidden weights before epoch `at_epoch` trains.

        Unstructured pruning ranks single weights across all hidden layers together;
        structured pruning (`ln_structured` with `pruning_norm`, `pruning_dim=0`) removes
        whole rows, i.e. hidden units, in each layer separately. The arguments are checked
        with the config (training/checks.py), before this class is built.
        """
        self.at_epoch = at_epoch
        super().__init__(
            pruning_fn=pruning_fn,
            parameter_names=["weight"],
            use_global_unstructured=pruning_fn.endswith("_unstructured"),
            amount=amount,
            make_pruning_permanent=True,
            use_lottery_ticket_hypothesis=False,
            pruning_dim=pruning_dim,
            # Lightning annotates an int; torch's ln_structured takes any norm order (inf too).
            pruning_norm=pruning_norm,  # type: ignore[arg-type]
            verbose=verbose,
        )

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.current_epoch == self.at_epoch:
            self.apply_pruning(self.amount)

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        """ModelPruning would prune here; this class prunes at the epoch's start instead."""

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        # What to prune is a list of modules, which a config cannot name. (An empty list would
        # make ModelPruning prune every parameter: the config check refuses a model without
        # hidden layers.)
        self._parameters_to_prune = [(linear, "weight") for linear in hidden_linears(pl_module)]
        super().setup(trainer, pl_module, stage)
