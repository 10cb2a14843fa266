"""Optimisation switches through the real Trainer on digits, a few batches each: penalties in
the logged loss, max-norm after every step, pruning, SWA, per-batch schedules, the LR finder."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import lightning as L
import pytest
import torch

from mlplab.training.assemble import build_callbacks, build_trainer
from mlplab.training.checks import validate
from mlplab.training.run import train
from mlplab.training.setup import setup_run
from mlplab.training.weights import hidden_linears, weight_sparsity
from tests.conftest import QUICK, REPO, compose_cfg, run

pytestmark = pytest.mark.slow


def _cfg(data_dir: Path, *overrides: str):
    return validate(compose_cfg(f"paths.data_dir={data_dir}", *QUICK, *overrides))


def _train(run_dir: Path, data_dir: Path, *overrides: str) -> dict[str, float]:
    return train(_cfg(data_dir, *overrides), run_dir)


def _fit(run_dir: Path, data_dir: Path, probe: L.Callback, *overrides: str) -> L.LightningModule:
    """train()'s recipe up to fit, with a probe callback last and no loggers."""
    cfg = _cfg(data_dir, "callbacks.lr_monitor=null", *overrides)
    dm, model = setup_run(cfg)
    callbacks = [*build_callbacks(cfg.callbacks, run_dir / "models"), probe]
    build_trainer(cfg.trainer, callbacks, [], run_dir).fit(model, datamodule=dm)
    return model


def _history(run_dir: Path) -> list[dict[str, float]]:
    with (run_dir / "plots" / "history.csv").open() as f:
        return [{k: float(v) for k, v in row.items() if v} for row in csv.DictReader(f)]


def _state(path: Path) -> dict[str, torch.Tensor]:
    return torch.load(path, map_location="cpu", weights_only=True)["state_dict"]


def test_logged_train_loss_is_data_loss_plus_l1_and_l2_penalties(tmp_path, digits_dir):
    _train(
        tmp_path,
        digits_dir,
        "trainer.max_epochs=2",
        "regularization.l1=1e-4",
        "regularization.l2=1e-3",
    )
    for row in _history(tmp_path):
        assert row["train/l1_penalty"] > 0 and row["train/l2_penalty"] > 0
        parts = row["train/data_loss"] + row["train/l1_penalty"] + row["train/l2_penalty"]
        assert row["train/loss"] == pytest.approx(parts, rel=1e-6)


class _RowNorms(L.Callback):
    """The largest incoming-weight norm of any hidden unit, after every training batch."""

    def __init__(self) -> None:
        self.after_step: list[float] = []

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        norms = [m.weight.norm(dim=1).max().item() for m in hidden_linears(pl_module)]
        self.after_step.append(max(norms))


def test_max_norm_bounds_every_hidden_units_incoming_weights_after_every_step(tmp_path, digits_dir):
    probe = _RowNorms()
    model = _fit(
        tmp_path,
        digits_dir,
        probe,
        "callbacks=max_norm",
        "callbacks.max_norm.max_norm=0.5",
        "trainer.max_epochs=2",
    )
    assert len(probe.after_step) == 8
    assert max(probe.after_step) <= 0.5 * (1 + 1e-6)
    # The bound binds (He-initialised rows have norm ~1.4), so it was really applied.
    assert min(probe.after_step) == pytest.approx(0.5, rel=1e-4)
    assert model.net.output.weight.norm(dim=1).max() > 0.5  # the output layer is left alone


def _tested(ckpt: Path, data_dir: Path, *overrides: str) -> dict[str, float]:
    """The Trainer's test metrics of a checkpoint, with the run's config and test batches."""
    cfg = _cfg(data_dir, *overrides)
    dm, model = setup_run(cfg)
    trainer = build_trainer(cfg.trainer, [], [], ckpt.parent.parent)
    return trainer.test(model, datamodule=dm, ckpt_path=str(ckpt), verbose=False)[0]


def test_pruning_and_swa_presets_test_and_evaluate_the_last_weights(digits_dir):
    assert compose_cfg().evaluate.checkpoint == "models/best.ckpt"
    for preset in ("pruning", "pruning_structured", "swa", "[max_norm,swa]"):
        cfg = compose_cfg(f"callbacks={preset}")
        assert (cfg.evaluate.weights, cfg.evaluate.checkpoint) == ("last", "models/last.ckpt")
    assert compose_cfg("callbacks=swa", "evaluate.weights=best").evaluate.weights == "best"


def test_pruning_preset_tests_the_pruned_model_even_when_an_unpruned_epoch_validated_best(
    tmp_path, digits_dir
):
    overrides = ("callbacks=pruning", "callbacks.pruning.at_epoch=1", "trainer.max_epochs=2")
    tested = _train(tmp_path, digits_dir, *overrides, "callbacks.pruning.amount=0.9")
    best = torch.load(tmp_path / "models" / "best.ckpt", weights_only=True)
    assert best["epoch"] == 0  # pruning 90 % made epoch 1 validate worse
    last = _state(tmp_path / "models" / "last.ckpt")
    hidden = sum(last[f"net.hidden_{i}.linear.weight"].numel() for i in (0, 1))
    total = hidden + last["net.output.weight"].numel()
    summary = json.loads((tmp_path / "metrics" / "train.json").read_text())
    assert summary["weights"] == "last"
    assert summary["weight_sparsity"] == pytest.approx(round(0.9 * hidden) / total)
    assert weight_sparsity(last) == summary["weight_sparsity"]
    assert tested == pytest.approx(_tested(tmp_path / "models" / "last.ckpt", digits_dir))
    assert tested != pytest.approx(_tested(tmp_path / "models" / "best.ckpt", digits_dir))


def test_unstructured_pruning_zeroes_half_the_hidden_weights_and_reports_sparsity(
    tmp_path, digits_dir
):
    tested = _train(
        tmp_path,
        digits_dir,
        "callbacks=pruning",
        "callbacks.pruning.at_epoch=1",
        "trainer.max_epochs=2",
    )
    state = _state(tmp_path / "models" / "last.ckpt")
    hidden = [state[f"net.hidden_{i}.linear.weight"] for i in (0, 1)]
    zeros = sum(int((w == 0).sum()) for w in hidden)
    assert zeros == sum(w.numel() for w in hidden) // 2
    assert not any(k.endswith(("_orig", "_mask")) for k in state)  # plain weights, loadable
    assert int((state["net.output.weight"] == 0).sum()) == 0
    # The tested model is the pruned one (last.ckpt), and train.json reports its sparsity:
    # half the hidden weights among all weight matrices (the output layer is not pruned).
    summary = json.loads((tmp_path / "metrics" / "train.json").read_text())
    total = sum(t.numel() for k, t in state.items() if t.ndim == 2 and k.endswith("weight"))
    assert summary["weights"] == "last" and summary["diverged"] is False
    assert summary["weight_sparsity"] == pytest.approx(zeros / total)
    assert weight_sparsity(state) == pytest.approx(zeros / total)
    assert tested == pytest.approx(_tested(tmp_path / "models" / "last.ckpt", digits_dir))


def test_structured_pruning_zeroes_half_the_units_of_each_hidden_layer_as_whole_rows(
    tmp_path, digits_dir
):
    _train(
        tmp_path,
        digits_dir,
        "callbacks=pruning_structured",
        "callbacks.pruning.at_epoch=1",
        "trainer.max_epochs=2",
    )
    last = torch.load(tmp_path / "models" / "last.ckpt", weights_only=True)
    assert last["epoch"] == 1  # the final epoch's weights, whichever epoch validated best
    state = last["state_dict"]
    for i, width in enumerate((256, 128)):
        w = state[f"net.hidden_{i}.linear.weight"]
        dead = (w == 0).all(dim=1)
        assert int(dead.sum()) == width // 2
        assert int((w[~dead] == 0).sum()) == 0  # the surviving units keep every weight


class _Snapshots(L.Callback):
    """Parameters at every epoch start, and after the last optimizer step of each epoch."""

    def __init__(self) -> None:
        self.epoch_start: list[list[torch.Tensor]] = []
        self.epoch_end: list[list[torch.Tensor]] = []

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        self.epoch_start.append([p.detach().clone() for p in pl_module.parameters()])

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        self.epoch_end.append([p.detach().clone() for p in pl_module.parameters()])


def test_swa_ends_with_the_mean_of_the_averaged_epoch_snapshots(tmp_path, digits_dir):
    probe = _Snapshots()
    model = _fit(
        tmp_path,
        digits_dir,
        probe,
        "callbacks=swa",
        "callbacks.swa.swa_epoch_start=1",
        "trainer.max_epochs=3",
    )
    # SWA averages the weights at the start of epochs 0..2 (swa_epoch_start=1 is epoch 0),
    # then spends a fourth, backward-free epoch validating the average.
    assert len(probe.epoch_start) == 4
    final = [p.detach() for p in model.parameters()]
    mean = [torch.stack(ps).mean(dim=0) for ps in zip(*probe.epoch_start[:3], strict=True)]
    last_step = probe.epoch_end[2]
    for f, m in zip(final, mean, strict=True):
        assert torch.allclose(f, m, atol=1e-6)
    assert any(not torch.allclose(f, s) for f, s in zip(final, last_step, strict=True))
    # last.ckpt, which the swa preset tests and evaluates, holds exactly the averaged weights.
    saved = _state(tmp_path / "models" / "last.ckpt")
    for (name, _), f in zip(model.named_parameters(), final, strict=True):
        assert torch.equal(saved[name], f), name


def test_swa_preset_tests_the_averaged_weights_of_last_ckpt(tmp_path, digits_dir):
    tested = _train(
        tmp_path,
        digits_dir,
        "callbacks=swa",
        "callbacks.swa.swa_epoch_start=1",
        "trainer.max_epochs=2",
    )
    last = torch.load(tmp_path / "models" / "last.ckpt", weights_only=True)
    assert last["epoch"] == 2  # the averaged weights' extra validation epoch
    assert json.loads((tmp_path / "metrics" / "train.json").read_text())["weights"] == "last"
    assert tested == pytest.approx(_tested(tmp_path / "models" / "last.ckpt", digits_dir))
    # Here the non-averaged epoch 1 validated best: testing best.ckpt would score other weights.
    assert torch.load(tmp_path / "models" / "best.ckpt", weights_only=True)["epoch"] == 1
    assert tested != pytest.approx(_tested(tmp_path / "models" / "best.ckpt", digits_dir))


class _LRs(L.Callback):
    def __init__(self) -> None:
        self.lrs: list[float] = []

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        self.lrs.append(trainer.optimizers[0].param_groups[0]["lr"])


def test_one_cycle_lr_rises_to_optimizer_lr_then_falls_within_a_run(tmp_path, digits_dir):
    probe = _LRs()
    _fit(tmp_path, digits_dir, probe, "scheduler=onecycle", "trainer.max_epochs=3")
    lrs = probe.lrs
    peak = lrs.index(max(lrs))
    assert len(lrs) == 12 and 0 < peak < 11
    assert max(lrs) == pytest.approx(1e-3, rel=0.05)
    assert lrs[0] == pytest.approx(1e-3 / 25)
    assert all(a < b for a, b in zip(lrs[:peak], lrs[1 : peak + 1], strict=True))
    assert all(a > b for a, b in zip(lrs[peak:-1], lrs[peak + 1 :], strict=True))


def test_warmup_cosine_starts_low_and_peaks_at_optimizer_lr(tmp_path, digits_dir):
    probe = _LRs()
    _fit(
        tmp_path,
        digits_dir,
        probe,
        "scheduler=warmup_cosine",
        "scheduler.scheduler.warmup_fraction=0.25",
        "trainer.max_epochs=3",
    )
    assert probe.lrs[0] == pytest.approx(1e-3 * 0.01)
    assert max(probe.lrs) == pytest.approx(1e-3) and probe.lrs.index(1e-3) == 3


def test_find_lr_script_writes_figure_and_a_suggestion_within_the_range(tmp_path):
    result = run(
        ["python", "src/find_lr.py", "lr_find.num_training=20", f"hydra.run.dir={tmp_path}"],
        cwd=REPO,
    )
    found = json.loads((tmp_path / "lr_find.json").read_text())
    assert 1e-6 <= found["suggestion"] <= 1.0
    assert len(found["lr"]) == len(found["loss"]) == 20
    assert f"suggested lr: {found['suggestion']:.4g}" in result.stdout
    assert (tmp_path / "lr_find.png").read_bytes()[:4] == b"\x89PNG"


def test_lr_find_apply_trains_exactly_as_with_the_suggested_lr(tmp_path, digits_dir):
    applied = _train(
        tmp_path / "a",
        digits_dir,
        "lr_find.apply=true",
        "lr_find.num_training=20",
        "trainer.max_epochs=1",
    )
    suggestion = json.loads((tmp_path / "a" / "lr_find.json").read_text())["suggestion"]
    assert suggestion != pytest.approx(1e-3)  # it really changed the LR
    ckpt = torch.load(tmp_path / "a" / "models" / "last.ckpt", weights_only=True)
    assert ckpt["hyper_parameters"]["optimizer"]["lr"] == suggestion
    assert _history(tmp_path / "a")[0]["lr"] == pytest.approx(suggestion)
    direct = _train(
        tmp_path / "b", digits_dir, f"optimizer.lr={suggestion!r}", "trainer.max_epochs=1"
    )
    assert applied == direct
    assert (tmp_path / "a" / "plots" / "history.csv").read_bytes() == (
        tmp_path / "b" / "plots" / "history.csv"
    ).read_bytes()


def test_unknown_optimizer_exits_nonzero_listing_the_available_ones(tmp_path):
    result = run(
        ["python", "src/train.py", "optimizer=foo", f"hydra.run.dir={tmp_path}"],
        cwd=REPO,
        check=False,
    )
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "'optimizer'" in output and "'foo'" in output
    listed = set(re.findall(r"\w+", output.split("'foo'", 1)[1]))
    assert {"adagrad", "adam", "adamax", "adamw", "nadam", "rmsprop", "sgd"} <= listed
