"""Bad user files and file configs: one message naming the file, column or key, and the
prepared data already in place left exactly as it was (no half-written directory)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from omegaconf import OmegaConf

from mlplab.data.store import prepare
from mlplab.errors import MlplabError
from mlplab.training.checks import validate
from tests.conftest import REPO, compose_cfg

FRUIT = "data/examples/fruit.csv"


def _prepare(data_dir: Path, *overrides: str) -> Path:
    """What src/prepare.py does, in process: compose data=csv, validate, prepare."""
    cfg = validate(compose_cfg("data=csv", f"paths.data_dir={data_dir}", *overrides))
    data = OmegaConf.to_container(cfg.data)
    return prepare(cfg.paths.data_dir, data["name"], data["source"], data["split"])


def _two_columns(labels: list) -> pd.DataFrame:
    return pd.DataFrame({"x": np.arange(len(labels), dtype=float), "y": labels})


def _with_inf() -> pd.DataFrame:
    frame = _two_columns(["a", "b"] * 10)
    frame.loc[2, "x"] = np.inf
    return frame


def _no_target_at_row_3() -> pd.DataFrame:
    frame = _two_columns(["a", "b"] * 10)
    frame.loc[3, "y"] = None
    return frame


# Written to <tmp>/bad.csv; the case then reads it with target y and no drop/categorical.
TABLES = {
    "directory": lambda path: path.mkdir(),
    "text_in_row_5": lambda path: path.write_text(
        "x,y\n"
        + "".join(f"{'7,5' if i == 5 else i},{'ab'[i % 2]}\n" for i in range(20)).replace(
            "7,5", '"7,5"'
        )
    ),
    "duplicate_column": lambda path: path.write_text(
        "x,x,y\n" + "".join(f"{i},{i},{'ab'[i % 2]}\n" for i in range(20))
    ),
    "latin_1": lambda path: path.write_bytes(
        ("x,y\n" + "".join(f"{i},{'ab'[i % 2]}\n" for i in range(3)) + "3,caf\xe9\n").encode(
            "latin-1"
        )
    ),
    "empty": lambda path: path.write_text(""),
    "header_only": lambda path: path.write_text("x,y\n"),
    "inf": lambda path: _with_inf().to_csv(path, index=False),
    "one_class": lambda path: _two_columns(["a"] * 20).to_csv(path, index=False),
    "one_b": lambda path: _two_columns(["a"] * 19 + ["b"]).to_csv(path, index=False),
    "no_target": lambda path: _no_target_at_row_3().to_csv(path, index=False),
}
TABLE_ARGS = ("data.source.target=y", "data.source.drop=[]", "data.source.categorical=[]")

CASES = [
    pytest.param(
        None,
        ["data.source.path=nowhere/fruit.csv"],
        "data file nowhere/fruit.csv does not exist (config key 'data.source.path')",
        id="missing file",
    ),
    pytest.param(
        "directory",
        [],
        "data file {path} is a directory, not a file (config key 'data.source.path')",
        id="a directory as the file",
    ),
    pytest.param(
        "text_in_row_5",
        [],
        (
            "column 'x' of {path} is not numeric ('7,5' in data row 5, from 0); list it in "
            "data.source.categorical"
        ),
        id="one text value in a numeric column",
    ),
    pytest.param(
        "duplicate_column",
        [],
        "data file {path} has more than one column named 'x'; column names must be unique",
        id="a repeated column name",
    ),
    pytest.param(
        "latin_1",
        [],
        (
            "data file {path} is not utf-8 text: byte 0xe9 at offset 21 (line 5) cannot be "
            "decoded; name its encoding, e.g. data.source.encoding=latin-1"
        ),
        id="latin-1 bytes read as utf-8",
    ),
    pytest.param(
        None,
        ["data.source.encoding=klingon"],
        (
            "config key 'data.source.encoding' is 'klingon'; give a text encoding such as "
            "utf-8, latin-1"
        ),
        id="unknown encoding",
    ),
    pytest.param(
        "empty",
        [],
        "bad.csv is empty (config key 'data.source.path')",
        id="empty file",
    ),
    pytest.param(
        "header_only",
        [],
        "bad.csv has a header but no rows",
        id="header only",
    ),
    pytest.param(
        None,
        ["data.source.target=species"],
        (
            "config key 'data.source.target' names column 'species', but data file "
            "data/examples/fruit.csv has no such column; its columns: id, weight_g"
        ),
        id="missing target column",
    ),
    pytest.param(
        None,
        ["data.source.features=[weight_g,size]"],
        "'data.source.features' names column 'size'",
        id="missing feature column",
    ),
    pytest.param(
        None,
        ["data.source.drop=[ID]"],
        "'data.source.drop' names column 'ID'",
        id="missing drop column",
    ),
    pytest.param(
        None,
        ["data.source.categorical=[color]"],
        "'data.source.categorical' names column 'color'",
        id="missing categorical column",
    ),
    pytest.param(
        None,
        ["data.source.categorical=[]"],
        (
            "column 'colour' of data/examples/fruit.csv is not numeric ('yellow' in data row 0, "
            "from 0); list it in data.source.categorical"
        ),
        id="text feature not categorical",
    ),
    pytest.param(
        None,
        ["data.source.missing=error"],
        (
            "column 'weight_g' of data/examples/fruit.csv has 16 missing or infinite values (first"
            " in data row 19, from 0); set data.source.missing=drop or median"
        ),
        id="NaN under error",
    ),
    pytest.param(
        "inf",
        ["data.source.missing=error"],
        "column 'x' of {path} has 1 missing or infinite values (first in data row 2, from 0)",
        id="inf under error",
    ),
    pytest.param(
        "no_target",
        ["data.source.missing=median"],
        (
            "target column 'y' of {path} has 1 missing or infinite values (first in data row 3, "
            "from 0); set data.source.missing=drop"
        ),
        id="missing target under median",
    ),
    pytest.param(
        "one_class",
        [],
        "target column 'y' of {path} has one class only ('a'); classification needs at least 2",
        id="one class only",
    ),
    pytest.param(
        "one_b",
        [],
        "cannot stratify the split (config key 'data.split.stratify')",
        id="too few per class to stratify",
    ),
    pytest.param(
        None,
        ["data.split.test=0.5"],
        "config keys data.split.{train,val,test} sum to 1.4; they must sum to 1",
        id="fractions not summing to 1",
    ),
    pytest.param(
        None,
        ["data.split.train=0.998", "data.split.val=0.001", "data.split.test=0.001"],
        "config key 'data.split.val' = 0.001 leaves the val split empty for 400 rows",
        id="a split left empty",
    ),
    pytest.param(
        None,
        ["data.source.task=ordinal"],
        (
            "config key 'data.source.task' is 'ordinal'; allowed values: auto, binary, multiclass,"
            " regression"
        ),
        id="unknown task",
    ),
    pytest.param(
        None,
        ["data.source.missing=mean"],
        "config key 'data.source.missing' is 'mean'; allowed values: error, drop, median",
        id="unknown missing policy",
    ),
    pytest.param(
        None,
        ["data.source.task=binary"],
        (
            "config key 'data.source.task' is 'binary', but target column 'fruit' of "
            "data/examples/fruit.csv has 4 classes"
        ),
        id="binary with four classes",
    ),
    pytest.param(
        None,
        ["data.source.task=regression"],
        "target column 'fruit' of data/examples/fruit.csv is not numeric",
        id="regression on text",
    ),
    pytest.param(
        None,
        ["data.source.drop=[id,fruit]"],
        "config key 'data.source.drop' lists the target column 'fruit'",
        id="target also dropped",
    ),
    pytest.param(
        None,
        ["data.source.drop=[id,colour]"],
        "'data.source.categorical' lists 'colour', which is not a feature",
        id="categorical also dropped",
    ),
    pytest.param(
        None,
        ["+data.source.split=0.5"],
        "config key 'data.source.split' is not an argument of data source 'csv'",
        id="split as a source key",
    ),
    pytest.param(
        None,
        ["~data.source.missing"],
        (
            "config key 'data.source.missing' is missing for data source 'csv'; "
            "configs/data/csv.yaml gives it"
        ),
        id="source key deleted",
    ),
]


@pytest.fixture(scope="module")
def good_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """data_dir holding the example CSV, prepared with the default data=csv config."""
    data_dir = tmp_path_factory.mktemp("good")
    _prepare(data_dir)
    return data_dir


def _snapshot(directory: Path) -> dict[str, bytes]:
    """Every file under `directory` (relative path -> bytes): nothing added, nothing changed."""
    return {
        str(p.relative_to(directory)): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize(("table", "overrides", "expected"), CASES)
def test_bad_input_is_one_message_and_leaves_prepared_data_untouched(
    table, overrides, expected, tmp_path, good_data, monkeypatch
):
    monkeypatch.chdir(REPO)  # the example path in data/csv.yaml is relative to the repo root
    if table is not None:
        path = tmp_path / "bad.csv"
        TABLES[table](path)
        overrides = [f"data.source.path={path}", *TABLE_ARGS, *overrides]
        expected = expected.format(path=path)
    data_dir = tmp_path / "data"
    shutil.copytree(good_data, data_dir)
    before = _snapshot(data_dir)
    with pytest.raises(MlplabError) as raised:
        _prepare(data_dir, *overrides)
    message = str(raised.value)
    assert expected in message and "\n" not in message
    # No temporary directory, lock file or new prepared folder left; the old one as it was.
    assert sorted(str(p.relative_to(data_dir)) for p in data_dir.rglob("*")) == sorted(
        str(p.relative_to(good_data)) for p in good_data.rglob("*")
    )
    assert _snapshot(data_dir) == before
