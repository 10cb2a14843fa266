"""A diverging run stops at its first non-finite loss, gradient or weight: exit code 3 with one
line, no checkpoint with a non-finite tensor, and strict JSON metrics (`"diverged": true`)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import pytest
import torch

from mlplab.atomic import write_json
from mlplab.errors import RunDiverged
from mlplab.evaluation.evaluate import Evaluation, write_evaluation
from mlplab.training.assemble import build_callbacks, build_trainer
from mlplab.training.checks import validate
from mlplab.training.setup import setup_run
from tests.conftest import REPO, compose_cfg, run

pytestmark = pytest.mark.slow

QUICK = (
    "trainer.accelerator=cpu",
    "callbacks.progress_bar=null",
    "trainer.enable_model_summary=false",
    "logger.tensorboard=null",
    "++trainer.limit_val_batches=2",
    "++trainer.limit_test_batches=1",
    "trainer.max_epochs=10",
)


def _tensors(value: Any) -> list[torch.Tensor]:
    """Every tensor in a nested structure of a checkpoint."""
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, dict):
        return [t for v in value.values() for t in _tensors(v)]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _tensors(v)]
    return []


def _refuse(constant: str) -> None:
    raise ValueError(f"{constant} is not JSON")


def _assert_no_nan_checkpoint_and_strict_json(run_dir: Path) -> dict[str, Any]:
    for ckpt in run_dir.rglob("*.ckpt"):
        saved = torch.load(ckpt, map_location="cpu", weights_only=False)
        model_and_optimizer = [saved["state_dict"], saved.get("optimizer_states", [])]
        floats = [t for t in _tensors(model_and_optimizer) if t.is_floating_point()]
        assert floats and all(bool(t.isfinite().all()) for t in floats), ckpt
    files = list(run_dir.rglob("*.json"))
    for path in files:
        json.loads(path.read_text(), parse_constant=_refuse)  # NaN, Infinity: invalid JSON
    summary = json.loads((run_dir / "metrics" / "train.json").read_text())
    assert summary["diverged"] is True
    return summary


def _train_script(run_dir: Path, data_dir: Path, *overrides: str):
    return run(
        [
            "python",
            "src/train.py",
            f"paths.data_dir={data_dir}",
            *QUICK,
            *overrides,
            f"hydra.run.dir={run_dir}",
        ],
        cwd=REPO,
        check=False,
    )


def test_classification_diverging_after_three_epochs_exits_3_keeping_finite_checkpoints(
    tmp_path, digits_dir
):
    result = _train_script(
        tmp_path,
        digits_dir,
        "optimizer=sgd",
        "optimizer.lr=1e6",
        "++trainer.limit_train_batches=4",
        "callbacks.last_checkpoint.every_n_epochs=1",  # a last.ckpt of each finite epoch
    )
    assert result.returncode == 3, result.stderr[-2000:]
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1
    assert re.match(
        r"error: training diverged in epoch [1-9]\d*: non-finite .* step \d+", errors[0]
    )
    assert "last finite training loss" in errors[0]
    for cause in ("optimizer.lr", "model.init.scale", "gradient_clip_val"):
        assert cause in errors[0]
    # Epochs 0-2 trained finitely and were checkpointed; the NaN came later.
    summary = _assert_no_nan_checkpoint_and_strict_json(tmp_path)
    assert summary["epochs_trained"] >= 1
    assert (tmp_path / "models" / "best.ckpt").is_file()
    assert (tmp_path / "models" / "last.ckpt").is_file()
    assert "metrics/test.json" not in {str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")}


@pytest.mark.parametrize("lr", ["1e5", "1e6"])
def test_regression_diverging_exits_3_with_one_line_and_strict_json(tmp_path, lr):
    # diabetes is prepared by train.py itself (a few hundred rows).
    result = _train_script(
        tmp_path, tmp_path / "data", "data=diabetes", "optimizer=sgd", f"optimizer.lr={lr}"
    )
    assert result.returncode == 3, result.stderr[-2000:]
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "training diverged in epoch 0: non-finite" in errors[0]
    _assert_no_nan_checkpoint_and_strict_json(tmp_path)


class _PoisonAfterBackward(L.Callback):
    """Sets one weight to +inf before optimizer step `at_step`, with the loss and gradients
    still finite: only the check of the weights after the step can see it."""

    def __init__(self, at_step: int) -> None:
        self.at_step = at_step

    def on_after_backward(self, trainer, pl_module) -> None:
        if trainer.global_step == self.at_step:
            with torch.no_grad():
                next(pl_module.parameters()).view(-1)[0] = float("inf")


def test_non_finite_weights_after_a_step_stop_the_run_and_are_never_checkpointed(
    tmp_path, digits_dir
):
    cfg = validate(
        compose_cfg(
            f"paths.data_dir={digits_dir}",
            *QUICK,
            "++trainer.limit_train_batches=4",
            "callbacks.lr_monitor=null",
            "++callbacks.last_checkpoint.save_on_exception=true",  # would save the inf weights
            "callbacks.last_checkpoint.every_n_epochs=1",  # epoch 0's last.ckpt
        )
    )
    dm, model = setup_run(cfg)
    callbacks = [*build_callbacks(cfg.callbacks, tmp_path / "models"), _PoisonAfterBackward(6)]
    with pytest.raises(RunDiverged, match=r"epoch 1: non-finite weights or buffers after step 6"):
        build_trainer(cfg.trainer, callbacks, [], tmp_path).fit(model, datamodule=dm)
    assert not bool(next(model.parameters()).isfinite().all())  # the weights in memory are inf
    last = torch.load(tmp_path / "models" / "last.ckpt", map_location="cpu", weights_only=True)
    assert last["epoch"] == 0  # epoch 0's weights, not the poisoned ones
    assert all(bool(t.isfinite().all()) for t in last["state_dict"].values())


def test_metrics_files_hold_null_for_nan_and_refuse_a_raw_nan(tmp_path):
    evaluation = Evaluation(
        rows=np.arange(1),
        metrics={"test/loss": float("nan"), "test/r2": float("-inf"), "n_test": 1},
        table={"predicted": [0.0]},
    )
    write_evaluation(evaluation, tmp_path)
    test = json.loads((tmp_path / "metrics" / "test.json").read_text(), parse_constant=_refuse)
    assert test["test/loss"] is None and test["test/r2"] is None
    with pytest.raises(ValueError, match="not JSON compliant"):
        write_json(tmp_path / "raw.json", {"loss": float("nan")})
    assert not (tmp_path / "raw.json").exists()
