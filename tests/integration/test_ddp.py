"""`python src/train.py trainer=ddp trainer.accelerator=cpu trainer.devices=2`: two gloo
processes, one split, one set of outputs."""

from __future__ import annotations

import re

import pytest
import torch

from mlplab.data.split import split_rows
from mlplab.data.store import prepared_dir, read_prepared
from tests.conftest import REPO, run

pytestmark = pytest.mark.slow


def test_ddp_on_two_cpu_processes_shares_the_split_and_writes_one_set_of_outputs(tmp_path):
    run_dir = tmp_path / "run"
    run(
        [
            "python",
            "src/train.py",
            "trainer=ddp",
            "trainer.accelerator=cpu",
            "trainer.devices=2",
            "trainer.max_epochs=2",
            f"hydra.run.dir={run_dir}",
            f"paths.data_dir={tmp_path / 'data'}",
        ],
        cwd=REPO,
    )
    logs = {p.name: p.read_text() for p in run_dir.glob("*.log")}
    assert set(logs) == {"train.log", "train_ddp_process_1.log"}
    splits = {
        int(rank): digest
        for text in logs.values()
        for rank, digest in re.findall(r"rank (\d): split (\w+)", text)
    }
    assert set(splits) == {0, 1}
    assert splits[0] == splits[1]
    # ... and it is the split a single process computes from the same config.
    split = {"train": 0.8, "val": 0.1, "test": 0.1, "seed": 0, "stratify": True}
    prepared = read_prepared(prepared_dir(tmp_path / "data", "digits", {}, split))
    assert splits[0] == split_rows(prepared.y, "multiclass", split).digest()
    assert sorted(p.name for p in (run_dir / "models").iterdir()) == ["best.ckpt", "last.ckpt"]
    # TensorBoard events from rank 0 alone, in the run directory itself.
    assert len(list(run_dir.glob("events.out.tfevents.*"))) == 1
    history = (run_dir / "plots" / "history.csv").read_text().splitlines()
    assert len(history) == 3  # header + one row per epoch, written once


def _train(run_dir, data_dir, *overrides):
    run(
        [
            "python",
            "src/train.py",
            "trainer.accelerator=cpu",
            "trainer.max_epochs=2",
            "model.dropout=0",  # each rank draws its own dropout masks: never one device's
            "callbacks.progress_bar=null",
            f"hydra.run.dir={run_dir}",
            f"paths.data_dir={data_dir}",
            *overrides,
        ],
        cwd=REPO,
    )
    return run_dir / "models" / "last.ckpt"


def test_two_ddp_processes_train_the_model_one_device_trains(tmp_path, digits_dir):
    """Global BatchNorm statistics (trainer=ddp's GlobalBatchNorm plugin) and rank losses
    weighted by their share of the batch (the last batch, 29 rows, splits 15/14): the same
    test metrics as one device to 1e-5; only float summation order differs."""
    from mlplab.evaluation.evaluate import evaluate_checkpoint

    one = _train(tmp_path / "one", digits_dir)
    two = _train(tmp_path / "two", digits_dir, "trainer=ddp", "trainer.devices=2")
    split = {"train": 0.8, "val": 0.1, "test": 0.1, "seed": 0, "stratify": True}
    data = prepared_dir(digits_dir, "digits", {}, split)
    expected = evaluate_checkpoint(one, data, split, 1024).metrics
    scored = evaluate_checkpoint(two, data, split, 1024).metrics
    assert expected["n_test"] == scored["n_test"] == 180
    for key in ("test/loss", "test/acc", "test/f1", "test/auroc"):
        assert scored[key] == pytest.approx(expected[key], abs=1e-5), key
    # The weights agree to float noise that AdamW's normalised steps amplify (measured 1e-4).
    a, b = (torch.load(p, weights_only=True)["state_dict"] for p in (one, two))
    assert max((a[k].float() - b[k].float()).abs().max().item() for k in a) < 1e-3
