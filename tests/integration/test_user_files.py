"""Train on a user CSV, then predict: predict on the test rows reproduces evaluate exactly, for
the example CSV (categories, missing values) and for built-in digits; bad input through the
real entry scripts is one stderr line and exit code 2."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.datasets import load_digits

from mlplab.config.rules import plain
from mlplab.data.store import prepared_dir
from mlplab.errors import DataError
from mlplab.evaluation.evaluate import evaluate_checkpoint
from mlplab.evaluation.predict import predict_file
from mlplab.training.run import train
from tests.conftest import REPO, cpu_run_cfg, run

pytestmark = pytest.mark.slow

FRUIT = REPO / "data" / "examples" / "fruit.csv"


def _train_and_evaluate(tmp_path, *overrides: str):
    """Train a few epochs in tmp dirs; return (best checkpoint, evaluation of its test split)."""
    data_dir, run_dir = tmp_path / "data", tmp_path / "run"
    cfg = cpu_run_cfg(
        data_dir,
        "trainer.max_epochs=3",
        "trainer.log_every_n_steps=1",
        *overrides,
    )
    train(cfg, run_dir)
    ckpt = run_dir / "models" / "best.ckpt"
    split = dict(cfg.data.split)
    directory = prepared_dir(data_dir, cfg.data.name, plain(cfg.data.source), split)
    return ckpt, evaluate_checkpoint(ckpt, directory, split, 512)


def _assert_same_predictions(predicted: pd.DataFrame, evaluation) -> None:
    assert predicted["predicted"].tolist() == evaluation.table["predicted"]
    np.testing.assert_allclose(
        predicted["confidence"].to_numpy(), evaluation.table["confidence"], rtol=0, atol=1e-6
    )


@pytest.fixture(scope="module")
def fruit_model(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("fruit")
    ckpt, evaluation = _train_and_evaluate(tmp_path, "data=csv", f"data.source.path={FRUIT}")
    test_rows = pd.read_csv(FRUIT).iloc[evaluation.rows]  # missing=median keeps every row
    test_csv = tmp_path / "test_rows.csv"
    test_rows.to_csv(test_csv, index=False)
    return ckpt, evaluation, test_rows, test_csv


def test_predict_on_the_example_test_rows_reproduces_evaluate(fruit_model):
    ckpt, evaluation, test_rows, test_csv = fruit_model
    assert test_rows[["weight_g", "sweetness"]].isna().any().any()  # imputation is exercised
    predicted = predict_file(ckpt, test_csv)
    assert list(predicted.columns) == ["id", "fruit", "predicted", "confidence"]
    assert predicted["id"].tolist() == test_rows["id"].tolist()
    _assert_same_predictions(predicted, evaluation)
    assert evaluation.metrics["test/acc"] > 0.8


def test_checkpoint_carries_the_train_fitted_encoding(fruit_model):
    hparams = torch.load(fruit_model[0], map_location="cpu", weights_only=True)["hyper_parameters"]
    encoding = hparams["meta"]["preprocessing"]
    assert encoding["categories"] == {"colour": ["brown", "green", "orange", "red", "yellow"]}
    assert sorted(encoding["medians"]) == ["height_cm", "sweetness", "weight_g", "width_cm"]
    assert encoding["target"] == "fruit" and hparams["meta"]["class_names"][0] == "apple"


def test_predict_entry_script_writes_only_the_output(fruit_model, tmp_path):
    ckpt, evaluation, _, test_csv = fruit_model
    out = tmp_path / "out" / "predictions.csv"
    result = run(
        ["python", REPO / "src" / "predict.py", f"ckpt_path={ckpt}", f"input={test_csv}",
         f"output={out}"],
        cwd=tmp_path,
    )  # fmt: skip
    assert result.stdout.strip() == f"wrote 40 predictions to {out}"
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["out", "predictions.csv"]
    _assert_same_predictions(pd.read_csv(out), evaluation)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda rows: rows.drop(columns=["colour"]),
            "lacks the feature column(s) 'colour'; the model needs columns weight_g, width_cm, "
            "height_cm, sweetness, colour",
        ),
        (
            lambda rows: rows.assign(
                weight_g=["heavy" if i == 3 else 1.0 for i in range(len(rows))]
            ),
            "column 'weight_g' of {bad} is not numeric ('heavy' in data row 3, from 0); "
            "the model was trained on numbers",
        ),
        (
            lambda rows: rows.assign(predicted="x"),
            "already has a column 'predicted', which predict writes; rename or drop it",
        ),
    ],
)
def test_predict_names_the_bad_column_of_its_input(fruit_model, tmp_path, change, expected):
    ckpt, _, test_rows, _ = fruit_model
    bad = tmp_path / "bad.csv"
    change(test_rows).to_csv(bad, index=False)
    with pytest.raises(DataError) as raised:
        predict_file(ckpt, bad)
    assert str(bad) in str(raised.value) and expected.format(bad=bad) in str(raised.value)


def test_predict_on_digits_test_rows_as_csv_reproduces_evaluate(tmp_path):
    ckpt, evaluation = _train_and_evaluate(tmp_path, "data=digits")
    frame = load_digits(as_frame=True).data.iloc[evaluation.rows]
    frame.insert(0, "row", evaluation.rows)
    test_csv = tmp_path / "digits_test.csv"
    frame.to_csv(test_csv, index=False)
    predicted = predict_file(ckpt, test_csv, batch_size=64)
    assert predicted["row"].tolist() == evaluation.rows.tolist()
    _assert_same_predictions(predicted, evaluation)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (
            ["data.source.path=nowhere.csv"],
            "error: data file nowhere.csv does not exist (config key 'data.source.path')",
        ),
        (
            ["data.source.categorical=[]"],
            "error: column 'colour' of data/examples/fruit.csv is not numeric ('yellow' in data "
            "row 0, from 0)",
        ),
    ],
)
def test_prepare_entry_script_rejects_bad_input_with_exit_code_2(tmp_path, overrides, expected):
    data_dir = tmp_path / "data"
    result = run(
        ["python", "src/prepare.py", "data=csv", *overrides, f"hydra.run.dir={tmp_path / 'run'}",
         f"paths.data_dir={data_dir}"],
        cwd=REPO, check=False,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(expected)
    assert not data_dir.exists()
