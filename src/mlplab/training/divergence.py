"""Stop a diverging run at its first non-finite loss, gradient or weight (exit code 3).

Lightning's EarlyStopping(check_finite=True) looks only at the validation loss after an epoch,
so a run whose weights turned to NaN mid-epoch used to stop quietly, save NaN checkpoints and
exit 0. This callback checks every optimizer step instead, with one host sync per step:

- after each optimizer step: the loss and every weight and float buffer, in one fused check
  (a NaN gradient makes NaN weights in the same step; BatchNorm's running variance overflows
  too); on failure the message says whether the loss, a gradient or the update was first;
- after each validation: `val/loss` (finite weights can still overflow on new rows).

The checks run before Lightning's checkpoint hooks (which run last), so no checkpoint is ever
written from non-finite weights: `models/best.ckpt` and `models/last.ckpt` keep the last finite
epoch's. The error names where it happened, the last finite loss and the usual causes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import ModelCheckpoint

from mlplab.errors import RunDiverged


def all_finite(tensors: Iterable[torch.Tensor]) -> torch.Tensor:
    """One boolean tensor: every element of every tensor is finite (no host sync).

    A NaN or infinity makes its tensor's sum non-finite; summing in float64 keeps any sum of
    finite float32 (or lower) values finite. One reduction per tensor, no copies: 3x cheaper
    than `isfinite().all()` per tensor on CPU (measured on the default digits MLP).
    """
    sums = [t.sum(dtype=torch.float64) for t in tensors]
    return torch.stack(sums).sum().isfinite() if sums else torch.tensor(True)


def _state(module: torch.nn.Module) -> list[torch.Tensor]:
    """The parameters and float buffers: BatchNorm's running variance overflows too."""
    buffers = [b for b in module.buffers() if b.is_floating_point()]
    return [*module.parameters(), *buffers]


def _trained(trainer: L.Trainer, module: torch.nn.Module) -> list[torch.Tensor]:
    """The tensors training changes: the optimizers' parameters and the float buffers.

    Listed once: they are updated in place (pruning, SWA and checkpoint loading too), and
    walking the module tree costs as much as the check itself."""
    params = [p for opt in trainer.optimizers for g in opt.param_groups for p in g["params"]]
    return [*params, *(b for b in module.buffers() if b.is_floating_point())]


class DivergenceCheck(L.Callback):
    def __init__(self, check_weights: bool, check_val_loss: bool) -> None:
        """Check the loss (always) and, with `check_weights`, every parameter and float buffer
        after each optimizer step; with `check_val_loss`, val/loss after each validation."""
        self.check_weights, self.check_val_loss = check_weights, check_val_loss
        self._loss: torch.Tensor | None = None
        self._tensors: list[torch.Tensor] = []
        self._last_finite_loss: torch.Tensor | None = None
        self._lr = math.nan  # of the last optimizer step
        self.weights_finite = True  # False once the weights in memory are non-finite

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._tensors = _trained(trainer, pl_module) if self.check_weights else []

    def on_before_backward(
        self, trainer: L.Trainer, pl_module: L.LightningModule, loss: torch.Tensor
    ) -> None:
        self._loss = loss.detach()

    def on_before_optimizer_step(
        self, trainer: L.Trainer, pl_module: L.LightningModule, optimizer: Any
    ) -> None:
        # The step's LR: Lightning updates schedulers before on_train_batch_end.
        self._lr = optimizer.param_groups[0]["lr"]

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, *args: Any
    ) -> None:
        # A non-finite loss or gradient reaches the weights in the same step (clipping a NaN
        # gradient gives NaN), so one fused check here sees all three; which one it was is
        # worked out only on failure. Under a GradScaler, an overflowing step is skipped by the
        # scaler and leaves the weights finite, as it should.
        tensors = self._tensors if self._loss is None else [self._loss, *self._tensors]
        if bool(all_finite(tensors)):
            self._last_finite_loss = self._loss
            return
        self.weights_finite = bool(all_finite(_state(pl_module)))
        step = trainer.global_step - 1  # the optimizer step just taken
        loss = math.nan if self._loss is None else float(self._loss)
        grads = [p.grad for p in pl_module.parameters() if p.grad is not None]
        if not math.isfinite(loss):
            what = f"non-finite loss ({loss}) at step {step}"
        elif not bool(all_finite(grads)):
            what = f"non-finite gradient at step {step}"
        else:
            what = f"non-finite weights or buffers after step {step}"
        self._fail(trainer, what)

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        loss = trainer.callback_metrics.get("val/loss")
        if self.check_val_loss and loss is not None and not bool(torch.isfinite(loss)):
            when = "before training (sanity check)" if trainer.sanity_checking else "validation"
            self._fail(trainer, f"non-finite val/loss ({float(loss)}) in {when}")

    def on_exception(
        self, trainer: L.Trainer, pl_module: L.LightningModule, exception: BaseException
    ) -> None:
        # Checkpoint callbacks run after this one; one with save_on_exception must not save
        # NaN weights over the last finite ones.
        if isinstance(exception, RunDiverged) and not self.weights_finite:
            for callback in trainer.checkpoint_callbacks:
                if isinstance(callback, ModelCheckpoint):
                    callback.save_on_exception = False

    def _fail(self, trainer: L.Trainer, what: str) -> None:
        last = self._last_finite_loss
        last_text = f"{float(last):.4g}" if last is not None else "none (the first step failed)"
        clip = trainer.gradient_clip_val
        clipping = (
            f"loose gradient clipping (trainer.gradient_clip_val={clip})"
            if clip
            else "no gradient clipping (set trainer.gradient_clip_val=1.0)"
        )
        raise RunDiverged(
            f"training diverged in epoch {trainer.current_epoch}: {what}; last finite training "
            f"loss {last_text}. Likely causes: too high a learning rate (lr {self._lr:.3g}; "
            f"lower optimizer.lr), too large an initial scale (model.init.scale), {clipping}"
        )
