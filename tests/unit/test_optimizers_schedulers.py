"""Every optimizer and scheduler config builds and trains, and the per-batch schedules have
the shape they promise. No Trainer: the module's own configure_optimizers on one fixed batch."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from mlplab.models.schedules import build_scheduler, warmup_cosine
from mlplab.training.checks import validate
from mlplab.training.setup import build_datamodule, build_module
from tests.conftest import compose_cfg, group_options

OPTIMIZERS = group_options("optimizer")
SCHEDULERS = group_options("scheduler")
STEPS = 30


@pytest.fixture(scope="module")
def dm(digits_dir):
    dm = build_datamodule(validate(compose_cfg(f"paths.data_dir={digits_dir}")))
    dm.prepare_data()
    dm.setup("fit")
    return dm


@pytest.fixture(scope="module")
def batch(dm) -> tuple[torch.Tensor, torch.Tensor]:
    """The first 64 training rows in the seeded order, raw (the model scales its input)."""
    return next(iter(dm.train_dataloader()))


def _train(dm, batch, monkeypatch, *overrides: str) -> tuple[list[float], list[float]]:
    """Losses and LRs of STEPS optimizer steps on one batch, stepping the scheduler as
    Lightning would (every step, or every 5 steps standing in for an epoch)."""
    cfg = validate(compose_cfg(*overrides))
    torch.manual_seed(0)
    model = build_module(cfg, dm)
    monkeypatch.setattr(model, "_scheduler_steps", lambda interval: STEPS)
    configured = model.configure_optimizers()
    if isinstance(configured, dict):
        optimizer = configured["optimizer"]
        scheduler = configured["lr_scheduler"]["scheduler"]
        interval = configured["lr_scheduler"]["interval"]
    else:
        optimizer, scheduler, interval = configured, None, "epoch"
    x, y = batch
    losses, lrs = [], []
    for step in range(STEPS):
        lrs.append(optimizer.param_groups[0]["lr"])
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if scheduler is not None and (interval == "step" or step % 5 == 4):
            plateau = isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau)
            scheduler.step(loss.item()) if plateau else scheduler.step()
    return losses, lrs


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_every_optimizer_halves_the_loss_in_30_steps(name, dm, batch, monkeypatch):
    losses, _ = _train(dm, batch, monkeypatch, f"optimizer={name}", "scheduler=none")
    assert losses[-1] < 0.5 * losses[0], losses


@pytest.mark.parametrize("name", SCHEDULERS)
def test_every_scheduler_builds_and_the_loss_halves_in_30_steps(name, dm, batch, monkeypatch):
    losses, lrs = _train(dm, batch, monkeypatch, f"scheduler={name}")
    assert losses[-1] < 0.5 * losses[0], losses
    assert all(lr > 0 for lr in lrs)


def test_weight_decay_skips_biases_and_norm_parameters(dm):
    model = build_module(validate(compose_cfg()), dm)
    weights, no_decay = model._param_groups()
    linears = [m for m in model.net.modules() if isinstance(m, torch.nn.Linear)]
    assert weights["params"] == [m.weight for m in linears]
    assert no_decay["weight_decay"] == 0.0
    assert {p.ndim for p in no_decay["params"]} == {1}
    assert len(weights["params"]) + len(no_decay["params"]) == len(list(model.net.parameters()))


def _lrs(scheduler: torch.optim.lr_scheduler.LRScheduler, steps: int) -> list[float]:
    optimizer = scheduler.optimizer
    lrs = []
    for _ in range(steps):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return lrs


def _optimizer(lr: float = 0.01) -> torch.optim.Optimizer:
    return torch.optim.AdamW([torch.nn.Parameter(torch.zeros(3))], lr=lr)


def test_one_cycle_auto_rises_from_lr_over_25_to_lr_then_falls_to_near_zero():
    node = {
        "_target_": "torch.optim.lr_scheduler.OneCycleLR",
        "_partial_": True,
        "max_lr": "auto",
        "total_steps": "auto",
        "pct_start": 0.3,
    }
    lrs = _lrs(build_scheduler(node, _optimizer(0.01), lambda: 40), 40)
    peak = lrs.index(max(lrs))
    assert lrs[0] == pytest.approx(0.01 / 25)
    assert max(lrs) == pytest.approx(0.01)
    assert 0.25 * 40 <= peak <= 0.35 * 40
    assert all(a < b for a, b in zip(lrs[:peak], lrs[1 : peak + 1], strict=True))
    assert all(a > b for a, b in zip(lrs[peak:-1], lrs[peak + 1 :], strict=True))
    assert lrs[-1] < 1e-4 * 0.01


def test_total_steps_is_only_asked_for_when_a_value_is_auto():
    node = {"_target_": "torch.optim.lr_scheduler.StepLR", "_partial_": True, "step_size": 3}
    build_scheduler(node, _optimizer(), lambda: pytest.fail("total_steps() was called"))


def test_warmup_cosine_starts_at_start_factor_peaks_at_lr_after_warmup_and_anneals():
    lrs = _lrs(
        warmup_cosine(_optimizer(0.01), 50, warmup_fraction=0.2, start_factor=0.01, eta_min=0.0), 50
    )
    assert lrs[0] == pytest.approx(1e-4)
    assert max(lrs) == pytest.approx(0.01) and lrs.index(max(lrs)) == 10
    assert all(a < b for a, b in zip(lrs[:10], lrs[1:11], strict=True))
    assert all(a > b for a, b in zip(lrs[10:-1], lrs[11:], strict=True))
