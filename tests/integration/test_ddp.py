"""`python src/train.py trainer=ddp trainer.accelerator=cpu trainer.devices=2`: two gloo
processes, one split, one set of outputs."""

from __future__ import annotations

import re

import pytest

from mlplab.data.split import split_rows
from mlplab.data.store import read_prepared
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
    prepared = read_prepared(tmp_path / "data" / "digits")
    split = {"train": 0.8, "val": 0.1, "test": 0.1, "seed": 0, "stratify": True}
    assert splits[0] == split_rows(prepared.y, "multiclass", split).digest()
    assert sorted(p.name for p in (run_dir / "models").iterdir()) == ["best.ckpt", "last.ckpt"]
    assert [p.name for p in (run_dir / "logs" / "tensorboard").iterdir()] == ["version_0"]
    assert [p.name for p in (run_dir / "logs" / "csv").iterdir()] == ["version_0"]
    history = (run_dir / "plots" / "history.csv").read_text().splitlines()
    assert len(history) == 3  # header + one row per epoch, written once
