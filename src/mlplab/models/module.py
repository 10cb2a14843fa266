"""The LightningModule: owns the network, input scaling, loss, metrics and optimisation.

Everything needed to rebuild the model from a checkpoint (spec, task, class names, optimizer
config, split digest) is saved as hyperparameters; the scaling statistics are buffers.
"""

from __future__ import annotations

from typing import Any

import lightning as L
import numpy as np
import torch
from hydra.utils import instantiate
from torch import nn
from torchmetrics import MeanMetric

from mlplab.models.mlp import MLPSpec, build_mlp
from mlplab.models.tasks import TASKS

NO_DECAY_MODULES = (nn.BatchNorm1d, nn.LayerNorm)
STAGES = ("train", "val", "test")


class MLPModule(L.LightningModule):
    def __init__(
        self,
        spec: dict[str, Any],
        task: str,
        meta: dict[str, Any],
        optimizer: dict[str, Any],
        scheduler: dict[str, Any] | None = None,
        split_digest: str | None = None,
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.spec = MLPSpec(**{**spec, "hidden_sizes": tuple(spec["hidden_sizes"])})
        self.task = TASKS[task]
        self.net = build_mlp(self.spec)
        self.register_buffer("input_shift", torch.zeros(self.spec.in_features))
        self.register_buffer("input_scale", torch.ones(self.spec.in_features))
        metrics = self.task.metrics(meta)
        self.val_metrics = metrics.clone(prefix="val/")
        self.test_metrics = metrics.clone(prefix="test/")
        # Epoch means weighted by batch size; synced across DDP ranks at epoch end only.
        self.losses = nn.ModuleDict({f"{stage}_loss": MeanMetric() for stage in STAGES})

    def set_input_scaling(self, shift: np.ndarray, scale: np.ndarray) -> None:
        self.input_shift.copy_(torch.as_tensor(shift))
        self.input_scale.copy_(torch.as_tensor(scale))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net((x - self.input_shift) / self.input_scale)

    def _step(self, batch: tuple[torch.Tensor, torch.Tensor], stage: str) -> torch.Tensor:
        x, y = batch
        outputs = self(x)
        loss = self.task.loss(outputs, y)
        mean_loss = self.losses[f"{stage}_loss"]
        mean_loss.update(loss.detach(), weight=len(y))
        self.log(f"{stage}/loss", mean_loss, on_step=False, on_epoch=True, prog_bar=stage != "test")
        if stage != "train":
            metrics = self.val_metrics if stage == "val" else self.test_metrics
            metrics.update(outputs, y)
            self.log_dict(metrics, on_step=False, on_epoch=True, prog_bar=stage == "val")
        return loss

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        return self._step(batch, "train")

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        self._step(batch, "val")

    def test_step(self, batch: Any, batch_idx: int) -> None:
        self._step(batch, "test")

    def _param_groups(self) -> list[dict[str, Any]]:
        """Weight decay applies to Linear weights only, never to biases or norm parameters."""
        decay, no_decay = [], []
        for module in self.net.modules():
            for name, param in module.named_parameters(recurse=False):
                exempt = name == "bias" or isinstance(module, NO_DECAY_MODULES)
                (no_decay if exempt else decay).append(param)
        # Named groups show up in TensorBoard as lr-<Optimizer>/weights and /no_decay.
        return [
            {"params": decay, "name": "weights"},
            {"params": no_decay, "weight_decay": 0.0, "name": "no_decay"},
        ]

    def configure_optimizers(self) -> Any:
        optimizer = instantiate(self.hparams.optimizer)(self._param_groups())
        schedule = self.hparams.scheduler
        if not schedule or schedule.get("scheduler") is None:
            return optimizer
        scheduler = instantiate(schedule["scheduler"])(optimizer)
        return {
            "optimizer": optimizer,
            "lr_scheduler": {
                "scheduler": scheduler,
                "interval": schedule["interval"],
                "monitor": schedule.get("monitor", "val/loss"),
            },
        }
