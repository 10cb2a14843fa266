"""Magnitude pruning (Han et al. 2015) of the hidden Linear weights with Lightning's ModelPruning,
one-shot or in rounds with fine-tuning between them (Zhu & Gupta 2017's gradual pruning).

ModelPruning's defaults suit iterative lottery-ticket experiments: it prunes every parameter
of every layer, at the end of every epoch, and rewinds the survivors to their initial values.
This subclass fixes the choices the config should not have to spell out: only the hidden
Linear weights, at the start of epochs `at_epoch`, `at_epoch + every`, ... (`rounds` of them),
no rewinding, and the pruning made permanent in checkpoints (plain `weight` tensors with
zeros), so every checkpoint loads into an ordinary MLP.

Round r of R brings the pruned fraction of the hidden weights to s_r = amount * (1 - (1 -
r/R)^3) (`schedule: cubic`, Zhu & Gupta 2017) or amount * r / R (`schedule: linear`). The
cubic schedule prunes most while many weights are redundant and little near the target, where
each weight removed costs more and the network gets the most fine-tuning to recover. With
`rounds: 1` both are one-shot pruning of `amount`.

Pruning at an epoch's start rather than its end keeps checkpoints honest: Lightning validates
before the epoch-end hooks and ModelCheckpoint saves after them, so weights pruned at an epoch's
end would be saved under the validation loss of the unpruned model.
"""

from __future__ import annotations

import lightning as L
import torch
from lightning.pytorch.callbacks import ModelPruning

from mlplab.training.weights import hidden_linears

SPARSITY_METRIC = "train/hidden_sparsity"  # logged every epoch: history.csv and train.json


def sparsity_targets(amount: float, rounds: int, schedule: str) -> list[float]:
    """The pruned fraction of the hidden weights after each round: the last is `amount`."""
    if schedule == "cubic":
        return [amount * (1 - (1 - r / rounds) ** 3) for r in range(1, rounds + 1)]
    return [amount * r / rounds for r in range(1, rounds + 1)]


class HiddenLayerPruning(ModelPruning):
    amount: float  # a fraction, never ModelPruning's per-epoch callable

    def __init__(
        self,
        pruning_fn: str,
        amount: float,
        at_epoch: int,
        rounds: int,
        every: int,
        schedule: str,
        pruning_norm: int | float | None,
        pruning_dim: int | None,
        verbose: int,
    ) -> None:
        """Prune the hidden weights in `rounds` steps, `every` epochs apart from `at_epoch`,
        to `amount` (a fraction) in all.

        Unstructured pruning ranks single weights across all hidden layers together;
        structured pruning (`ln_structured` with `pruning_norm`, `pruning_dim=0`) removes
        whole rows, i.e. hidden units, in each layer separately. The arguments are checked
        with the config (training/checks.py), before this class is built.
        """
        self.at_epoch, self.rounds, self.every = at_epoch, rounds, every
        epochs = [at_epoch + r * every for r in range(rounds)]
        self.targets = dict(zip(epochs, sparsity_targets(amount, rounds, schedule), strict=True))
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
        self._dim = pruning_dim

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        # A resumed run: checkpoints hold plain weights with zeros, not masks, so the pruned
        # weights would grow back. The zeros are the smallest weights: re-masking the sparsity
        # reached so far picks them again.
        reached = [s for epoch, s in self.targets.items() if epoch < trainer.current_epoch]
        if reached:
            self.apply_pruning(reached[-1])

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.current_epoch in self.targets:
            self.apply_pruning(self.targets[trainer.current_epoch])
        pl_module.log(SPARSITY_METRIC, self.hidden_sparsity(), on_step=False, on_epoch=True)

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        """ModelPruning would prune here; this class prunes at the epoch's start instead."""

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        # What to prune is a list of modules, which a config cannot name. (An empty list would
        # make ModelPruning prune every parameter: the config check refuses a model without
        # hidden layers.)
        self._parameters_to_prune = [(linear, "weight") for linear in hidden_linears(pl_module)]
        super().setup(trainer, pl_module, stage)

    def hidden_sparsity(self) -> float:
        """The fraction of the hidden weights pruned (masked) so far."""
        zeros = total = 0
        for module, name in self._parameters_to_prune:
            mask = getattr(module, f"{name}_mask", getattr(module, name))
            zeros += int((mask == 0).sum())
            total += mask.numel()
        return zeros / total

    # apply_pruning(amount) calls one of these two. Here `amount` is the fraction pruned in
    # all after this call. torch's pruning of a pruned tensor prunes `amount` of what is left
    # (an int: that many), so later rounds pass counts: round(target * size) - pruned.

    def _apply_global_pruning(self, amount: float) -> None:
        pruned, total = self._masked_count()
        if pruned == 0:  # the first round: the one-shot call, unchanged
            super()._apply_global_pruning(amount)
        elif round(amount * total) > pruned:
            super()._apply_global_pruning(round(amount * total) - pruned)

    def _apply_local_pruning(self, amount: float) -> None:
        for module, name in self._parameters_to_prune:
            mask = getattr(module, f"{name}_mask", None)
            if mask is None:  # the first round: the one-shot call, unchanged
                self.pruning_fn(module, name=name, amount=amount)  # type: ignore[call-arg]
                continue
            assert self._dim is not None, "structured pruning has a pruning_dim (checks.py)"
            others = [d for d in range(mask.ndim) if d != self._dim]
            units = mask.shape[self._dim]
            pruned = int((mask.sum(dim=others) == 0).sum())  # whole slices masked
            if round(amount * units) > pruned:
                step = round(amount * units) - pruned
                self.pruning_fn(module, name=name, amount=step)  # type: ignore[call-arg]

    def _masked_count(self) -> tuple[int, int]:
        """Pruned (masked) hidden weights and all hidden weights; 0 pruned before any mask."""
        pruned = total = 0
        for module, name in self._parameters_to_prune:
            weight: torch.Tensor = getattr(module, name)
            mask = getattr(module, f"{name}_mask", None)
            pruned += 0 if mask is None else int((mask == 0).sum())
            total += weight.numel()
        return pruned, total
