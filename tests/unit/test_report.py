"""The report is built from files alone and links only figures it wrote."""

from __future__ import annotations

import json
import re

import pytest

from mlplab.errors import DataError
from mlplab.reporting.report import build_report, confusion_counts


def _write_inputs(root):
    (root / "metrics").mkdir()
    (root / "plots").mkdir()
    (root / "metrics" / "train.json").write_text(json.dumps({"best_epoch": 2}))
    per_class = {"a": {"precision": 1.0, "recall": 0.5}, "b": {"precision": 0.5, "recall": 1.0}}
    test = {"accuracy": 0.75, "f1_macro": 0.7, "loss": 0.4, "n_test": 4, "per_class": per_class}
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
    assert "| accuracy | 0.7500 |" in text


def test_confusion_counts_rows_are_actual_columns_predicted(tmp_path):
    pairs = _write_inputs(tmp_path)
    assert confusion_counts(pairs, ["a", "b"]).tolist() == [[1, 1], [0, 2]]


def test_missing_input_names_the_file(tmp_path):
    with pytest.raises(DataError, match=r"train\.json is missing"):
        build_report(tmp_path, tmp_path / "reports", {})
