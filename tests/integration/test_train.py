"""Training through the real Trainer: loss falls, accuracy clears a bar, runs repeat exactly,
and TensorBoard's own reader finds the logged scalars."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from mlplab.training.run import train
from tests.conftest import cpu_run_cfg

pytestmark = pytest.mark.slow


def _train(run_dir: Path, data_dir: Path, *overrides: str) -> dict[str, float]:
    cfg = cpu_run_cfg(
        data_dir,
        *overrides,
    )
    return train(cfg, run_dir)


def _history(run_dir: Path) -> list[dict[str, float]]:
    with (run_dir / "plots" / "history.csv").open() as f:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(f)]


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory, digits_dir) -> tuple[Path, dict[str, float]]:
    run_dir = tmp_path_factory.mktemp("run")
    return run_dir, _train(run_dir, digits_dir, "trainer.max_epochs=6")


def test_training_loss_falls_by_more_than_half(digits_run):
    history = _history(digits_run[0])
    assert len(history) == 6
    assert history[-1]["train/loss"] < 0.5 * history[0]["train/loss"]


def test_test_accuracy_after_six_epochs_is_above_0_9(digits_run):
    assert digits_run[1]["test/acc"] > 0.9
    assert 0 < digits_run[1]["test/f1"] <= 1


def test_cosine_schedule_lowers_the_logged_lr_every_epoch(digits_run):
    lrs = [row["lr"] for row in _history(digits_run[0])]
    assert lrs[0] == pytest.approx(1e-3)
    assert all(b < a for a, b in zip(lrs, lrs[1:], strict=False))


def test_checkpoints_carry_scaling_split_and_class_names(digits_run):
    run_dir = digits_run[0]
    assert sorted(p.name for p in (run_dir / "models").iterdir()) == ["best.ckpt", "last.ckpt"]
    ckpt = torch.load(run_dir / "models" / "best.ckpt", map_location="cpu", weights_only=True)
    hparams = ckpt["hyper_parameters"]
    assert hparams["meta"]["class_names"] == [str(i) for i in range(10)]
    assert len(hparams["split_digest"]) == 16
    assert ckpt["state_dict"]["input_scale"].shape == (64,)
    summary = json.loads((run_dir / "metrics" / "train.json").read_text())
    assert summary["epochs_trained"] == 6


def test_tensorboard_reader_finds_loss_accuracy_and_learning_rate(digits_run):
    # The events lie in the run directory itself: TensorBoard names the run by it.
    assert len(list(digits_run[0].glob("events.out.tfevents.*"))) == 1
    assert not (digits_run[0] / "logs").exists()
    events = EventAccumulator(str(digits_run[0]))
    events.Reload()
    tags = set(events.Tags()["scalars"])
    assert {"train/loss", "val/loss", "val/acc", "lr-AdamW/weights", "test/acc"} <= tags
    assert len(events.Scalars("val/acc")) == 6
    assert events.Scalars("val/acc")[-1].value > 0.9
    assert events.Scalars("lr-AdamW/weights")[0].value == pytest.approx(1e-3)


def test_two_runs_with_one_seed_give_identical_metrics(tmp_path, digits_dir):
    first = _train(tmp_path / "a", digits_dir, "trainer.max_epochs=2", "seed=7")
    second = _train(tmp_path / "b", digits_dir, "trainer.max_epochs=2", "seed=7")
    other = _train(tmp_path / "c", digits_dir, "trainer.max_epochs=2", "seed=8")
    assert first == second
    assert first != other
    hist = [(tmp_path / d / "plots" / "history.csv").read_bytes() for d in "ab"]
    assert hist[0] == hist[1]


def test_augmentation_changes_training_only_and_still_learns(tmp_path, digits_dir):
    plain = _train(tmp_path / "a", digits_dir, "trainer.max_epochs=3")
    augmented = _train(
        tmp_path / "b",
        digits_dir,
        "trainer.max_epochs=3",
        "data.augment.noise_std=0.1",
        "data.augment.mixup_alpha=0.4",
    )
    history = _history(tmp_path / "b")
    assert history[-1]["train/loss"] < history[0]["train/loss"]
    assert augmented["test/acc"] > 0.85
    assert _history(tmp_path / "a")[0]["train/loss"] != history[0]["train/loss"]
    assert plain != augmented
