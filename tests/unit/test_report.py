"""The report is built from files alone and links only figures it wrote; train.json and
history.csv, which it reads, name metrics as TensorBoard does."""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from torch import nn

from mlplab.errors import DataError
from mlplab.reporting.report import build_report, confusion_counts
from mlplab.training.history import HistoryRecorder


def _write_inputs(root):
    (root / "metrics").mkdir()
    (root / "plots").mkdir()
    train = {
        "epochs_trained": 2,
        "best_epoch": 1,
        "best": {"train/loss": 0.5, "val/acc": 0.75, "val/loss": 0.6},
        "final": {"train/loss": 0.5, "val/acc": 0.75, "val/loss": 0.6},
        "weight_sparsity": 0.0,
    }
    (root / "metrics" / "train.json").write_text(json.dumps(train))
    per_class = {"a": {"precision": 1.0, "recall": 0.5}, "b": {"precision": 0.5, "recall": 1.0}}
    test = {"test/acc": 0.75, "test/f1": 0.7, "test/loss": 0.4, "n_test": 4, "per_class": per_class}
    (root / "metrics" / "test.json").write_text(json.dumps(test))
    pairs = [
        {"actual": "a", "predicted": "a"},
        {"actual": "a", "predicted": "b"},
        {"actual": "b", "predicted": "b"},
        {"actual": "b", "predicted": "b"},
    ]
    (root / "plots" / "confusion.json").write_text(json.dumps(pairs))
    (root / "plots" / "history.csv").write_text(
        "epoch,lr,train/loss,val/loss,val/acc\n0,0.1,1.0,1.1,0.5\n1,0.05,0.5,0.6,0.75\n"
    )
    return pairs


def test_report_links_only_existing_figures_and_states_metrics(tmp_path):
    _write_inputs(tmp_path)
    report = build_report(tmp_path, tmp_path / "reports", {"dataset": "toy"})
    text = report.read_text()
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert len(links) == 3
    assert all((report.parent / link).is_file() for link in links)
    assert "| test/acc | 0.7500 |" in text and "| n_test | 4 |" in text
    assert "| val/acc | 0.7500 | 0.7500 |" in text  # best epoch, final epoch
    assert "- **best_epoch**: 1" in text


def test_confusion_counts_rows_are_actual_columns_predicted(tmp_path):
    pairs = _write_inputs(tmp_path)
    assert confusion_counts(pairs, ["a", "b"]).tolist() == [[1, 1], [0, 2]]


def test_train_json_keeps_the_history_names_for_the_best_and_last_epoch():
    recorder = HistoryRecorder(Path("unused.csv"), Path("unused.json"))
    recorder.rows = [
        {"epoch": 0, "lr": 0.1, "train/loss": 1.0, "val/loss": 0.9, "val/acc": 0.5},
        {"epoch": 1, "lr": 0.05, "train/loss": 0.5, "val/loss": 0.4, "val/acc": 0.75},
        {"epoch": 2, "lr": 0.01, "train/loss": 0.25, "val/loss": 0.6, "val/acc": 0.7},
    ]
    weights = nn.Linear(2, 2)
    nn.init.zeros_(weights.weight[0])  # half the weight matrix is zero
    trainer = SimpleNamespace(checkpoint_callback=None, lightning_module=weights)
    summary = recorder.summary(trainer)
    assert summary == {
        "epochs_trained": 3,
        "best_epoch": 1,
        "best": {"train/loss": 0.5, "val/loss": 0.4, "val/acc": 0.75},
        "final": {"train/loss": 0.25, "val/loss": 0.6, "val/acc": 0.7},
        "weight_sparsity": 0.5,
    }
    header = recorder.history_csv().splitlines()[0].split(",")
    assert header == ["epoch", "lr", "train/loss", "val/loss", "val/acc"]
    assert set(summary["best"]) == set(header) - {"epoch", "lr"}


def test_missing_input_names_the_file(tmp_path):
    with pytest.raises(DataError, match=r"train\.json is missing"):
        build_report(tmp_path, tmp_path / "reports", {})
