"""BatchNorm over the global batch under DDP, on CPU processes (gloo) as on GPUs.

Without it each rank normalises its share of the batch by that share's statistics, so N devices
train a different model than one. torch's SyncBatchNorm (Lightning's `sync_batchnorm=True`)
refuses CPU tensors; `GlobalBatchNorm` is a Lightning LayerSync plugin (`trainer.plugins`) that
DDP applies when fitting and reverts afterwards, so checkpoints hold plain BatchNorm1d.
"""

from __future__ import annotations

import torch
import torch.distributed as dist
import torch.distributed.nn.functional as dist_fn
from lightning.pytorch.plugins import LayerSync
from torch import nn


def _distributed() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


class GlobalBatchNorm1d(nn.BatchNorm1d):
    """BatchNorm1d whose training statistics are those of every rank's rows together.

    Two differentiable all-reduces (any backend): the mean, then the centred squares, the
    two passes one device makes; gradients flow through both to every rank.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not (self.training and _distributed()):
            return super().forward(x)
        count = x.new_tensor(float(len(x)))
        dist.all_reduce(count)
        mean = dist_fn.all_reduce(x.sum(0)) / count
        var = dist_fn.all_reduce(((x - mean) ** 2).sum(0)) / count
        if self.track_running_stats and self.running_mean is not None:
            assert self.running_var is not None and self.num_batches_tracked is not None
            with torch.no_grad():
                self.num_batches_tracked.add_(1)
                momentum = self.momentum  # None: a cumulative average, as in BatchNorm1d
                if momentum is None:
                    momentum = 1.0 / float(self.num_batches_tracked)
                self.running_mean.lerp_(mean, momentum)
                self.running_var.lerp_(var * count / (count - 1), momentum)  # unbiased
        out = (x - mean) / torch.sqrt(var + self.eps)
        return out * self.weight + self.bias if self.affine else out


def _swap(model: nn.Module, source: type[nn.Module], target: type[nn.Module]) -> nn.Module:
    """Replace every module of exactly type `source` by `target`, sharing its parameters."""
    for name, child in model.named_children():
        if type(child) is source:
            assert isinstance(child, nn.BatchNorm1d)
            swapped = target(
                child.num_features,
                child.eps,
                child.momentum,
                child.affine,
                child.track_running_stats,
            )
            swapped.load_state_dict(child.state_dict())
            if child.affine:  # the optimizer holds these very tensors
                swapped.weight, swapped.bias = child.weight, child.bias
            swapped.train(child.training)
            setattr(model, name, swapped)
        else:
            _swap(child, source, target)
    return model


class GlobalBatchNorm(LayerSync):
    """Lightning plugin: BatchNorm1d -> GlobalBatchNorm1d while DDP fits, and back."""

    def apply(self, model: nn.Module) -> nn.Module:
        return _swap(model, nn.BatchNorm1d, GlobalBatchNorm1d)

    def revert(self, model: nn.Module) -> nn.Module:
        return _swap(model, GlobalBatchNorm1d, nn.BatchNorm1d)
