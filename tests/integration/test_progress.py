"""Progress output: at most a line per epoch in a log, none when switched off."""

from __future__ import annotations

import pytest

from mlplab.training.assemble import build_callbacks, build_trainer
from mlplab.training.progress import Progress
from tests.conftest import REPO, compose_cfg, run

pytestmark = pytest.mark.slow


def _epoch_lines(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if line.startswith("epoch ")]


def _train(tmp_path, digits_dir, *overrides: str) -> str:
    return run(
        [
            "python",
            "src/train.py",
            "trainer.accelerator=cpu",
            "trainer.enable_model_summary=false",
            "logger.tensorboard=null",
            "callbacks.early_stopping=null",
            "++trainer.limit_train_batches=2",
            "++trainer.limit_val_batches=1",
            "++trainer.limit_test_batches=1",
            f"paths.data_dir={digits_dir}",
            f"hydra.run.dir={tmp_path}",
            *overrides,
        ],
        REPO,
    ).stdout


def test_a_log_gets_the_first_and_last_epoch_of_a_short_run_and_nothing_between(
    tmp_path, digits_dir
):
    stdout = _train(
        tmp_path, digits_dir, "trainer.max_epochs=6", "callbacks.progress_bar.log_seconds=3600"
    )
    lines = _epoch_lines(stdout)
    assert [line.split("  ")[0] for line in lines] == ["epoch 1/6", "epoch 6/6"]
    assert "val/loss" in lines[-1] and "train/loss" in lines[-1]
    assert "\r" not in stdout


def test_a_log_gets_one_line_per_epoch_at_most(tmp_path, digits_dir):
    stdout = _train(
        tmp_path, digits_dir, "trainer.max_epochs=3", "callbacks.progress_bar.log_seconds=0"
    )
    assert [line.split("  ")[0] for line in _epoch_lines(stdout)] == [
        "epoch 1/3",
        "epoch 2/3",
        "epoch 3/3",
    ]


@pytest.mark.parametrize(
    "override", ["callbacks.progress_bar=null", "trainer.enable_progress_bar=false"]
)
def test_switched_off_progress_leaves_no_bar_at_all(tmp_path, digits_dir, override):
    assert _epoch_lines(_train(tmp_path, digits_dir, "trainer.max_epochs=2", override)) == []
    cfg = compose_cfg("trainer.accelerator=cpu", override)
    trainer = build_trainer(cfg.trainer, build_callbacks(cfg.callbacks, tmp_path), [], tmp_path)
    assert trainer.progress_bar_callback is None  # not Lightning's default bar either


def test_the_configured_progress_bar_is_ours(tmp_path):
    cfg = compose_cfg("trainer.accelerator=cpu")
    trainer = build_trainer(cfg.trainer, build_callbacks(cfg.callbacks, tmp_path), [], tmp_path)
    assert isinstance(trainer.progress_bar_callback, Progress)
