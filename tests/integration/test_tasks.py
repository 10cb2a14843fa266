"""Binary, multilabel and regression tasks train end to end and match classical baselines
fitted on the same split; evaluate's test.json repeats the Trainer's logged test metrics."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import accuracy_score, r2_score
from sklearn.preprocessing import StandardScaler

from mlplab.data.split import split_rows
from mlplab.data.store import prepare, prepared_dir, read_prepared
from mlplab.evaluation.evaluate import evaluate_checkpoint, write_evaluation
from mlplab.training.run import train
from tests.conftest import cpu_run_cfg

pytestmark = pytest.mark.slow


def _train_and_evaluate(run_dir: Path, data_dir: Path, *overrides: str) -> dict:
    cfg = cpu_run_cfg(
        data_dir,
        *overrides,
    )
    logged = train(cfg, run_dir)
    split = dict(cfg.data.split)
    evaluation = evaluate_checkpoint(
        run_dir / "models" / "best.ckpt",
        prepared_dir(data_dir, cfg.data.name, dict(cfg.data.source), split),
        split,
        512,
    )
    write_evaluation(evaluation, run_dir)
    _assert_one_set_of_names(run_dir, logged)
    return evaluation.metrics


def _assert_one_set_of_names(run_dir: Path, logged: dict[str, float]) -> None:
    """test.json holds the Trainer's logged test/ metrics, under the same names and with the
    same values, and the val/ columns of history.csv with the test/ prefix."""
    test = json.loads((run_dir / "metrics" / "test.json").read_text())
    scalars = {k for k in test if k.startswith("test/")}
    assert scalars == set(logged)
    for name, value in logged.items():
        assert test[name] == pytest.approx(value, rel=1e-6, abs=2e-6), name  # float32, 6 digits
    header = (run_dir / "plots" / "history.csv").read_text().splitlines()[0].split(",")
    assert {c.replace("val/", "test/") for c in header if c.startswith("val/")} == scalars
    train_json = json.loads((run_dir / "metrics" / "train.json").read_text())
    assert set(train_json["best"]) == set(header) - {"epoch", "lr"}


def _baseline_split(data_dir: Path, name: str):
    prepared = read_prepared(prepare(data_dir, name, {}, force=False))
    split = split_rows(
        prepared.y,
        prepared.meta["task"],
        {"train": 0.8, "val": 0.1, "test": 0.1, "seed": 0, "stratify": True},
    )
    X, y = np.asarray(prepared.X), np.asarray(prepared.y)
    scaler = StandardScaler().fit(X[split.train])
    return (
        scaler.transform(X[split.train]),
        y[split.train],
        scaler.transform(X[split.test]),
        y[split.test],
    )


def test_diabetes_regression_r2_is_within_0_05_of_ridge(tmp_path):
    data_dir = tmp_path / "data"
    metrics = _train_and_evaluate(tmp_path / "run", data_dir, "experiment=diabetes_mlp")
    X_train, y_train, X_test, y_test = _baseline_split(data_dir, "diabetes")
    ridge = r2_score(y_test, Ridge(alpha=1.0).fit(X_train, y_train).predict(X_test))
    assert metrics["test/r2"] >= ridge - 0.05, (metrics["test/r2"], ridge)
    assert metrics["n_test"] == 44 and metrics["test/rmse"] >= metrics["test/mae"] > 0
    predictions = (tmp_path / "run" / "plots" / "predictions.csv").read_text().splitlines()
    assert predictions[0] == "row,actual,predicted" and len(predictions) == 45


def test_breast_cancer_binary_accuracy_is_within_0_02_of_logistic_regression(tmp_path):
    data_dir = tmp_path / "data"
    metrics = _train_and_evaluate(tmp_path / "run", data_dir, "experiment=breast_cancer_mlp")
    X_train, y_train, X_test, y_test = _baseline_split(data_dir, "breast_cancer")
    logreg = LogisticRegression(max_iter=1000).fit(X_train, y_train)
    baseline = accuracy_score(y_test, logreg.predict(X_test))
    assert metrics["test/acc"] >= baseline - 0.02, (metrics["test/acc"], baseline)
    assert metrics["test/auroc"] > 0.95
    assert set(metrics["per_class"]) == {"malignant", "benign"}
    pairs = json.loads((tmp_path / "run" / "plots" / "confusion.json").read_text())
    assert len(pairs) == metrics["n_test"] == 57


def test_multilabel_learns_beyond_the_all_negative_guess(tmp_path):
    metrics = _train_and_evaluate(
        tmp_path / "run", tmp_path / "data", "data=multilabel", "trainer.max_epochs=8"
    )
    [prepared_folder] = (tmp_path / "data" / "multilabel").glob("*/X.npy")
    prepared = read_prepared(prepared_folder.parent)
    all_negative = 1 - float(np.asarray(prepared.y).mean())
    assert metrics["test/acc"] > all_negative + 0.1
    assert metrics["test/auroc"] > 0.8
    assert 0 <= metrics["test/exact_match"] <= metrics["test/acc"]
    assert json.loads((tmp_path / "run" / "plots" / "confusion.json").read_text()) == []
