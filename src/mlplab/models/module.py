"""The LightningModule: owns the network, input scaling, loss, metrics and optimisation.

Everything needed to rebuild the model from a checkpoint (spec, task, class names, optimizer
config, split digest) is saved as hyperparameters; the scaling statistics are buffers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

import lightning as L
import numpy as np
import torch
from hydra.utils import instantiate
from torch import nn
from torchmetrics import MeanMetric

from mlplab.models.mlp import MLPSpec, build_mlp
from mlplab.models.penalties import PENALTIES, penalties
from mlplab.models.schedules import build_scheduler
from mlplab.models.tasks import make_task

STAGES = ("train", "val", "test")
NORM_STATISTICS = ("running_mean", "running_var", "num_batches_tracked")  # buffers, not weights


class MLPModule(L.LightningModule):
    # Buffers (register_buffer below): the scaling statistics every checkpoint carries.
    input_shift: torch.Tensor
    input_scale: torch.Tensor
    target_shift: torch.Tensor
    target_scale: torch.Tensor

    def __init__(
        self,
        spec: dict[str, Any],
        task: str,
        meta: dict[str, Any],
        optimizer: dict[str, Any],
        scheduler: dict[str, Any],
        split_digest: str,
        objective: dict[str, Any],
        regularization: dict[str, float],
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.spec = MLPSpec.from_dict(spec)
        self.task = make_task(task, objective)
        self.net = build_mlp(self.spec)
        self.register_buffer("input_shift", torch.zeros(self.spec.in_features))
        self.register_buffer("input_scale", torch.ones(self.spec.in_features))
        # Regression trains on standardised targets; metrics and predictions use real units.
        self.register_buffer("target_shift", torch.zeros(self.spec.out_features))
        self.register_buffer("target_scale", torch.ones(self.spec.out_features))
        # The task's metric names, prefixed by stage, are the names everywhere (see tasks.py).
        metrics = self.task.metrics(meta)
        self.val_metrics = metrics.clone(prefix="val/")
        self.test_metrics = metrics.clone(prefix="test/")
        # Epoch means weighted by batch size; synced across DDP ranks at epoch end only.
        self.losses = nn.ModuleDict({f"{stage}_loss": MeanMetric() for stage in STAGES})
        # With a penalty on, train/loss is the total; these log its parts the same way.
        self.loss_parts = nn.ModuleDict({k: MeanMetric() for k in ("data_loss", *PENALTIES)})
        self._logged_epoch: int | None = None  # the epoch training_step last called self.log in

    @property
    def example_input_array(self) -> torch.Tensor:
        """One example of zeros (token id 0 for token windows): Lightning's model summary runs
        it, in eval mode without gradients, to print the FLOPs of one forward pass. Made on
        each read in the buffers' dtype, which `*-true` precisions change; not saved."""
        dtype = torch.int64 if self.spec.input_kind == "embedding" else self.input_shift.dtype
        return torch.zeros(1, self.spec.in_features, dtype=dtype, device=self.input_shift.device)

    @example_input_array.setter
    def example_input_array(self, example: Any) -> None:
        """LightningModule.__init__ sets None; the example is always the one above."""

    def set_input_scaling(self, shift: np.ndarray, scale: np.ndarray) -> None:
        self.input_shift.copy_(torch.as_tensor(shift))
        self.input_scale.copy_(torch.as_tensor(scale))

    def set_target_scaling(self, shift: np.ndarray, scale: np.ndarray) -> None:
        self.target_shift.copy_(torch.as_tensor(shift))
        self.target_scale.copy_(torch.as_tensor(scale))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Outputs in model units: logits, or standardised regression targets."""
        if self.spec.input_kind == "dense":  # token ids are indices: scaling them means nothing
            x = (x - self.input_shift) / self.input_scale
        return self.task.head(self.net(x))

    def to_target_units(self, outputs: torch.Tensor) -> torch.Tensor:
        if self.task.classification:
            return outputs
        return outputs * self.target_scale + self.target_shift

    def to_model_units(self, targets: torch.Tensor) -> torch.Tensor:
        if self.task.classification:
            return targets
        shift, scale = self.target_shift, self.target_scale
        if targets.ndim == 1:
            shift, scale = shift[0], scale[0]
        return (targets - shift) / scale

    def _step(
        self,
        batch: tuple[torch.Tensor, torch.Tensor],
        stage: str,
        penalty: torch.Tensor | None = None,
        log: bool = True,
    ) -> torch.Tensor:
        x, y = batch
        outputs = self(x)
        loss = self.task.loss(outputs, self.to_model_units(y))
        if penalty is not None:  # training only: train/loss is the total that is minimised
            loss = loss + penalty
        mean_loss = cast(MeanMetric, self.losses[f"{stage}_loss"])
        mean_loss.update(loss.detach(), weight=len(y))
        if log:
            self.log(
                f"{stage}/loss", mean_loss, on_epoch=True, on_step=False, prog_bar=stage != "test"
            )
        if stage != "train":
            metrics = self.val_metrics if stage == "val" else self.test_metrics
            metrics.update(self.task.metric_inputs(self.to_target_units(outputs), y), y)
            self.log_dict(metrics, on_step=False, on_epoch=True, prog_bar=stage == "val")
        return loss

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        # A logged Metric is read at epoch end only, and Lightning's self.log costs more than
        # this network's forward pass (it moves its holder to the device each call): register
        # the running means once per epoch (its first batch, or the first after a resume);
        # they are updated every step.
        epoch = self.trainer.current_epoch if self._trainer is not None else None
        log = batch_idx == 0 or epoch is None or self._logged_epoch != epoch
        self._logged_epoch = epoch
        reg = self.hparams["regularization"]
        rows = len(batch[1])
        if not (reg["l1"] or reg["l2"]):  # no penalty: the weight matrices are not even listed
            return self._rank_weighted(self._step(batch, "train", log=log), rows)
        terms = penalties(self._weight_matrices(), reg["l1"], reg["l2"])
        penalty = torch.stack(list(terms.values())).sum()
        loss = self._step(batch, "train", penalty, log=log)
        for name, value in {"data_loss": loss - penalty, **terms}.items():
            part = cast(MeanMetric, self.loss_parts[name])
            part.update(value.detach(), weight=rows)
            if log:
                self.log(f"train/{name}", part, on_step=False, on_epoch=True)
        return self._rank_weighted(loss - penalty, rows) + penalty

    def _rank_weighted(self, data_loss: torch.Tensor, rows: int) -> torch.Tensor:
        """Under DDP, the rank's mean loss weighted by its share of the global batch.

        DDP averages gradients over ranks, which equals the global batch's mean only when the
        ranks' shares are equal; a last batch of odd size is not. Scaled by rows x ranks / global
        rows, the average is the one-device gradient. The penalty is the same on every rank and
        stays as it is.
        """
        world = self.trainer.world_size if self._trainer is not None else 1
        if world == 1:
            return data_loss
        local = torch.tensor(float(rows), device=data_loss.device)
        total = self.trainer.strategy.reduce(local, reduce_op="sum")
        return data_loss * (rows * world / total)

    def on_train_epoch_start(self) -> None:
        # Running epoch means start empty; a run resumed mid-epoch skips this hook and keeps
        # the sums of the batches before the checkpoint (on_load_checkpoint).
        for metric in self._train_means().values():
            metric.reset()

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """torchmetrics states are not in the state_dict: save the running train means."""
        checkpoint["train_means"] = {
            key: {name: getattr(m, name) for name in m._defaults}
            for key, m in self._train_means().items()
        }

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        metrics = self._train_means()
        for key, states in checkpoint.get("train_means", {}).items():
            for name, value in states.items():
                setattr(metrics[key], name, value.to(self.device))
            metrics[key]._update_count = 1  # holds data: compute() without a warning

    def _train_means(self) -> dict[str, MeanMetric]:
        means = {"train_loss": self.losses["train_loss"], **self.loss_parts}
        return {key: cast(MeanMetric, m) for key, m in means.items()}

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        self._step(batch, "val")

    def test_step(self, batch: Any, batch_idx: int) -> None:
        self._step(batch, "test")

    def _weight_matrices(self) -> list[nn.Parameter]:
        """What weight decay and the L1/L2 penalties act on: Linear and Embedding weights.

        Biases, norm scales and shifts and PReLU slopes are all 1-D, so `ndim >= 2` leaves them
        out however the blocks are arranged.
        """
        return [p for p in self.net.parameters() if p.ndim >= 2]

    def _param_groups(self) -> list[dict[str, Any]]:
        """Weight decay applies to weight matrices only, never to biases or norm parameters."""
        decay = self._weight_matrices()
        no_decay = [p for p in self.net.parameters() if all(p is not d for d in decay)]
        # Named groups show up in TensorBoard as lr-<Optimizer>/weights and /no_decay.
        return [
            {"params": decay, "name": "weights"},
            {"params": no_decay, "weight_decay": 0.0, "name": "no_decay"},
        ]

    def configure_optimizers(self) -> Any:
        optimizer = instantiate(self.hparams["optimizer"])(self._param_groups())
        schedule = self.hparams["scheduler"]
        if schedule["scheduler"] is None:  # a constant learning rate
            return optimizer
        interval = schedule["interval"]
        scheduler = build_scheduler(
            schedule["scheduler"], optimizer, lambda: self._scheduler_steps(interval)
        )
        return {
            "optimizer": optimizer,
            "lr_scheduler": {
                "scheduler": scheduler,
                "interval": interval,
                "monitor": schedule["monitor"],
            },
        }

    def _scheduler_steps(self, interval: str) -> int:
        """How often the scheduler steps in this run: what `total_steps: auto` stands for."""
        if interval == "step":
            return int(self.trainer.estimated_stepping_batches)
        assert self.trainer.max_epochs is not None, "trainer.max_epochs is always configured"
        return self.trainer.max_epochs


def model_size(state_dict: Mapping[str, torch.Tensor]) -> dict[str, int]:
    """Size facts of an MLPModule's weights (its state dict, pruning masks applied or not).

    `parameters`: the network's trainable numbers (not the scaling buffers or norm running
    statistics). `nonzero_weights`: non-zero entries of the weight matrices (2-D `weight`s,
    the embedding table too: what weight_sparsity counts). `flops`: one example's forward
    pass through the Linear layers, 2 * in * out per weight matrix (a multiply and an add)
    plus one add per bias; `sparse_flops`: the same with zero weights skipped, 2 * nnz per
    weight matrix plus biases. Embedding lookups, norms, activations and dropout are not
    counted (a few operations per unit); Lightning's summary counts the matmuls alone.
    """
    weights = {}
    parameters = 0
    for key, tensor in state_dict.items():
        if not key.startswith("net.") or key.endswith(("_mask", *NORM_STATISTICS)):
            continue
        parameters += tensor.numel()
        if key.endswith(("weight", "weight_orig")) and tensor.ndim == 2:
            name = key.removesuffix("_orig")
            mask = state_dict.get(f"{name}_mask")
            weights[name] = tensor if mask is None else tensor * mask
    nonzero = {name: int(torch.count_nonzero(w)) for name, w in weights.items()}
    flops = sparse = 0
    for name, weight in weights.items():
        layer = name.removesuffix(".weight")
        if layer.split(".")[-1] == "embedding":  # a table lookup, not a matmul
            continue
        bias = state_dict.get(f"{layer}.bias")
        adds = 0 if bias is None else bias.numel()
        flops += 2 * weight.numel() + adds
        sparse += 2 * nonzero[name] + adds
    return {
        "parameters": parameters,
        "nonzero_weights": sum(nonzero.values()),
        "flops": flops,
        "sparse_flops": sparse,
    }
