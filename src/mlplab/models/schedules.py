"""Build the LR scheduler from its `_partial_` config node, filling in what only the run knows.

A scheduler that steps every batch (1cycle, warm-up + cosine) must know how many steps the run
has, which depends on the data size, `trainer.max_epochs` and `limit_train_batches`; the config
says `total_steps: auto` and the LightningModule supplies the number from the Trainer. OneCycleLR's
`max_lr: auto` is the optimizer's own LR, so an LR-finder suggestion applied to `optimizer.lr`
also sets the peak of the cycle.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # config validation imports AUTO_KEYS without loading torch
    from torch.optim import Optimizer
    from torch.optim.lr_scheduler import LRScheduler, SequentialLR

AUTO = "auto"
AUTO_KEYS = ("total_steps", "max_lr")  # the scheduler arguments that may be `auto`


def build_scheduler(
    node: Mapping[str, Any], optimizer: Optimizer, total_steps: Callable[[], int]
) -> LRScheduler:
    """Instantiate `node` for `optimizer`; `total_steps()` is called only when a value is auto."""
    from hydra.utils import instantiate

    node = dict(node)
    filled: dict[str, Any] = {}
    if node.get("total_steps") == AUTO:
        del node["total_steps"]
        filled["total_steps"] = total_steps()
    if node.get("max_lr") == AUTO:
        del node["max_lr"]
        filled["max_lr"] = [group["lr"] for group in optimizer.param_groups]
    # Passed to the partial as plain values: instantiate would turn a list into a ListConfig.
    return instantiate(node)(optimizer, **filled)


def warmup_cosine(
    optimizer: Optimizer,
    total_steps: int,
    warmup_fraction: float,
    start_factor: float,
    eta_min: float,
) -> SequentialLR:
    """Linear warm-up to the optimizer's LR over warmup_fraction of total_steps, then cosine
    annealing to eta_min: torch's LinearLR and CosineAnnealingLR chained by SequentialLR."""
    from torch.optim.lr_scheduler import CosineAnnealingLR, LinearLR, SequentialLR

    warmup = min(max(1, round(warmup_fraction * total_steps)), max(1, total_steps - 1))
    return SequentialLR(
        optimizer,
        schedulers=[
            LinearLR(optimizer, start_factor=start_factor, end_factor=1.0, total_iters=warmup),
            CosineAnnealingLR(optimizer, T_max=max(1, total_steps - warmup), eta_min=eta_min),
        ],
        milestones=[warmup],
    )
