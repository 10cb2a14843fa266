"""CSV/Parquet sources: class names, dropped columns, and encodings fitted on train rows only."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from mlplab.data.encoding import TableEncoding
from mlplab.data.files import file_digest
from mlplab.data.split import split_rows
from mlplab.data.store import prepare, prepared_dir, read_prepared
from mlplab.data.targets import encode_target, infer_task
from mlplab.errors import ConfigError
from tests.conftest import REPO

SPLIT = {"train": 0.6, "val": 0.2, "test": 0.2, "seed": 0, "stratify": True}
# Every argument of both file sources but path; a test overrides what it needs.
PLAIN = {
    "target": "label",
    "features": None,
    "drop": None,
    "task": "auto",
    "missing": "error",
    "categorical": None,
}
FRUIT = {**PLAIN, "target": "fruit", "drop": ["id"], "categorical": ["colour"], "missing": "median"}


def _args(tmp_path, **args) -> dict:
    """The csv source's arguments for <tmp_path>/table.csv."""
    return {**PLAIN, "path": str(tmp_path / "table.csv"), "encoding": "utf-8", **args}


def _prepare(tmp_path, frame: pd.DataFrame, **args):
    frame.to_csv(tmp_path / "table.csv", index=False)
    directory = prepare(tmp_path / "prepared", "csv", _args(tmp_path, **args), SPLIT)
    return read_prepared(directory)


def _table(n: int = 20) -> pd.DataFrame:
    """Two alternating string classes, an ID, a numeric and a categorical column."""
    return pd.DataFrame(
        {
            "id": [f"r{i}" for i in range(n)],
            "x": np.arange(n, dtype=float),
            "c": ["red", "blue"] * (n // 2),
            "label": ["spam", "ham"] * (n // 2),
        }
    )


def _parts(n: int = 20):
    """The split prepare computes for _table(n): its labels encode to ham=0, spam=1."""
    y = np.array([1, 0] * (n // 2))
    return split_rows(y, "binary", SPLIT)


def test_string_labels_become_sorted_class_names_and_matching_indices():
    y, task, meta = encode_target(pd.Series(["pear", "apple", "fig", "apple"]), "auto", "f.csv")
    assert meta["class_names"] == ["apple", "fig", "pear"]
    assert y.tolist() == [2, 0, 1, 0] and y.dtype == np.int64 and task == "multiclass"


def test_integer_labels_sort_numerically_not_as_text():
    _, _, meta = encode_target(pd.Series([10, 2, 2, 10, 1]), "auto", "f.csv")
    assert meta["class_names"] == ["1", "2", "10"]


@pytest.mark.parametrize(
    ("values", "task"),
    [
        (["a", "b", "a"], "binary"),
        (["a", "b", "c"], "multiclass"),
        ([True, False, True], "binary"),
        ([0, 1, 0, 1], "binary"),
        ([0, 1, 2, 1], "multiclass"),
        ([1.0, 2.0, 3.0], "multiclass"),  # an int column with gaps reads as whole floats
        (list(range(20)), "multiclass"),  # 20 distinct whole numbers: still classes
        (list(range(21)), "regression"),  # 21: a count, not classes
        ([0.5, 1.25, 3.0], "regression"),
    ],
)
def test_auto_task_inference(values, task):
    assert infer_task(pd.Series(values)) == task


def test_drop_removes_the_id_column_and_features_keep_file_order(tmp_path):
    prepared = _prepare(tmp_path, _table(), target="label", drop=["id"], categorical=["c"])
    assert prepared.meta["feature_names"] == ["x", "c=blue", "c=red"]
    assert prepared.meta["preprocessing"]["features"] == ["x", "c"]
    assert prepared.meta["class_names"] == ["ham", "spam"] and prepared.meta["task"] == "binary"
    assert prepared.X.shape == (20, 3) and prepared.X.dtype == np.float32


def test_one_hot_categories_come_from_train_rows_only(tmp_path):
    frame, parts = _table(), _parts()
    frame.loc[parts.test[0], "c"] = "green"  # a category only a test row has
    prepared = _prepare(tmp_path, frame, target="label", drop=["id"], categorical=["c"])
    assert prepared.meta["preprocessing"]["categories"] == {"c": ["blue", "red"]}
    assert "c=green" not in prepared.meta["feature_names"]
    assert prepared.X[parts.test[0], 1:].tolist() == [0.0, 0.0]  # unseen: all zeros
    assert prepared.X[parts.train, 1:].sum(axis=1).tolist() == [1.0] * len(parts.train)


def test_median_imputation_uses_the_train_median(tmp_path):
    frame, parts = _table(), _parts()
    frame.loc[parts.test, "x"] = 1000.0  # outliers outside train would move an all-rows median
    frame.loc[parts.val[0], "x"] = np.nan
    prepared = _prepare(tmp_path, frame, target="label", drop=["id", "c"], missing="median")
    train_median = float(np.median(frame["x"].to_numpy()[parts.train]))
    assert train_median != frame["x"].median()
    assert prepared.meta["preprocessing"]["medians"] == {"x": train_median}
    assert prepared.X[parts.val[0], 0] == np.float32(train_median)


def test_missing_drop_drops_exactly_the_rows_with_gaps(tmp_path):
    frame = _table(30)
    frame.loc[[3, 17], "x"] = np.nan
    frame.loc[8, "c"] = None
    frame.loc[12, "x"] = np.inf
    frame.loc[25, "id"] = None  # a dropped column's gap keeps its row
    prepared = _prepare(
        tmp_path, frame, target="label", drop=["id"], categorical=["c"], missing="drop"
    )
    kept = frame.drop(index=[3, 8, 12, 17])
    assert prepared.meta["rows_dropped"] == 4
    np.testing.assert_array_equal(prepared.X[:, 0], kept["x"].to_numpy(dtype=np.float32))


def test_unseen_category_at_predict_time_encodes_as_zeros_and_warns(caplog):
    encoding = TableEncoding(["x", "c"], categories={"c": ["blue", "red"]}, medians={"x": 2.0})
    frame = pd.DataFrame({"x": [1.0, np.nan], "c": ["purple", "red"]})
    with caplog.at_level(logging.WARNING):
        X = encoding.transform(frame, "new.csv")
    assert X.tolist() == [[1.0, 0.0, 0.0], [2.0, 0.0, 1.0]]
    assert "'purple'" in caplog.text and "all zeros" in caplog.text
    assert TableEncoding.from_dict(encoding.to_dict()) == encoding


def test_csv_and_parquet_examples_prepare_identical_arrays(tmp_path):
    examples = REPO / "data" / "examples"
    csv = read_prepared(
        prepare(
            tmp_path,
            "csv",
            {"path": str(examples / "fruit.csv"), **FRUIT, "encoding": "utf-8"},
            SPLIT,
        )
    )
    parquet = read_prepared(
        prepare(tmp_path, "parquet", {"path": str(examples / "fruit.parquet"), **FRUIT}, SPLIT)
    )
    np.testing.assert_array_equal(csv.X, parquet.X)
    np.testing.assert_array_equal(csv.y, parquet.y)
    assert csv.meta["class_names"] == ["apple", "lemon", "orange", "pear"]
    assert csv.meta["preprocessing"]["categories"]["colour"] == [
        "brown",
        "green",
        "orange",
        "red",
        "yellow",
    ]


def test_an_edited_file_is_prepared_into_a_new_folder_and_the_old_one_stays(tmp_path):
    args = _args(tmp_path, drop=["id"], categorical=["c"])
    _table().to_csv(tmp_path / "table.csv", index=False)
    old = prepare(tmp_path / "prepared", "csv", args, SPLIT, force=False)
    assert old == prepared_dir(tmp_path / "prepared", "csv", args, SPLIT)
    _table(40).to_csv(tmp_path / "table.csv", index=False)
    new = prepared_dir(tmp_path / "prepared", "csv", args, SPLIT)
    assert new != old and not new.exists()
    assert prepare(tmp_path / "prepared", "csv", args, SPLIT, force=False) == new
    assert read_prepared(new).X.shape == (40, 3)
    assert read_prepared(old).X.shape == (20, 3)
    assert read_prepared(new).meta["source"]["file_sha256"] == file_digest(tmp_path / "table.csv")


def test_a_latin_1_file_reads_with_its_encoding_and_keeps_its_accents(tmp_path):
    frame = _table().replace({"c": {"red": "rosé"}})
    frame.to_csv(tmp_path / "table.csv", index=False, encoding="latin-1")
    args = _args(tmp_path, drop=["id"], categorical=["c"], encoding="latin-1")
    prepared = read_prepared(prepare(tmp_path / "prepared", "csv", args, SPLIT))
    assert prepared.meta["preprocessing"]["categories"] == {"c": ["blue", "rosé"]}
    assert prepared.X.shape == (20, 3)


def test_split_is_passed_by_prepare_and_is_not_a_config_key(tmp_path):
    with pytest.raises(ConfigError, match=r"'data\.source\.split' is not an argument"):
        prepare(tmp_path, "csv", {**_args(tmp_path), "split": SPLIT}, SPLIT)
    with pytest.raises(ConfigError, match="fits its encoding on the train split"):
        prepare(tmp_path, "csv", _args(tmp_path))
    assert not (tmp_path / "csv").exists()


@pytest.mark.parametrize(
    ("name", "encoding"), [("csv", ", encoding"), ("parquet", "")], ids=["csv", "parquet"]
)
def test_an_unknown_file_source_key_lists_the_allowed_ones(tmp_path, name, encoding):
    args = {**_args(tmp_path), "sep": ";"}
    if name == "parquet":
        del args["encoding"]  # Parquet records its own encoding
    with pytest.raises(ConfigError) as raised:
        prepare(tmp_path, name, args, SPLIT)
    assert str(raised.value) == (
        f"config key 'data.source.sep' is not an argument of data source {name!r}; "
        f"allowed keys: path, target, features, drop, task, missing, categorical{encoding}"
    )
