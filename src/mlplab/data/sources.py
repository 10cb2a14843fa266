"""The dataset registry: config name -> source function, and the check of its arguments.

A source turns the `data.source.*` keys into a Dataset (dataset.py), with no download. Every
argument is a required keyword: its value lives in configs/data/<name>.yaml and nowhere else.
Add a source by writing the function in a module of its own and adding it to SOURCES.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from mlplab.data.dataset import Dataset
from mlplab.data.file_sources import csv_file, parquet_file
from mlplab.data.mnist_1d import mnist1d
from mlplab.data.sklearn_data import BUNDLED, blobs, bundled, circles, moons, multilabel
from mlplab.data.split import min_rows
from mlplab.data.synthetic import synthetic_classification, synthetic_regression
from mlplab.data.text import names
from mlplab.errors import ConfigError

SOURCES: dict[str, Callable[..., Dataset]] = {
    **{name: bundled(loader, target) for name, (loader, target) in BUNDLED.items()},
    "multilabel": multilabel,
    "circles": circles,
    "moons": moons,
    "blobs": blobs,
    "synthetic_classification": synthetic_classification,
    "synthetic_regression": synthetic_regression,
    "names": names,
    "mnist1d": mnist1d,
    "csv": csv_file,
    "parquet": parquet_file,
}

# A source fitting anything on the data (file sources) takes the split; not a config key.
SPLIT_ARG = "split"
# The argument of generated sources that sets their row count, checked before they run.
ROWS_ARG = "n_samples"


def source_keys(name: str) -> list[str]:
    """The data.source keys of source `name`, in signature order: all of them are required."""
    return [p for p in inspect.signature(SOURCES[name]).parameters if p != SPLIT_ARG]


def check_source_args(name: str, args: dict[str, Any]) -> None:
    """Raise ConfigError unless `name` is a source and `args` give exactly its arguments."""
    if name not in SOURCES:
        raise ConfigError(
            f"config key 'data.name' is {name!r}; allowed values: {', '.join(sorted(SOURCES))}"
        )
    allowed = source_keys(name)
    for key in args:
        if key not in allowed:
            raise ConfigError(
                f"config key 'data.source.{key}' is not an argument of data source {name!r}; "
                f"allowed keys: {', '.join(allowed) or '(none)'}"
            )
    for key in allowed:
        if key not in args:
            raise ConfigError(
                f"config key 'data.source.{key}' is missing for data source {name!r}; "
                f"configs/data/{name}.yaml gives it"
            )
    check_row_count(args)


def check_row_count(args: dict[str, Any], split: dict[str, Any] | None = None) -> None:
    """A generated source's `n_samples` is an integer >= 1, and with `split` (the data.split
    node) enough rows to give every part of the split one."""
    if ROWS_ARG not in args:
        return
    n, need, parts = args[ROWS_ARG], 1, ""
    if split is not None:
        need = min_rows(split["train"], split["val"], split["test"])
        parts = f" so that data.split {split['train']:g}/{split['val']:g}/{split['test']:g} "
        parts += "leaves no part empty"
    if isinstance(n, bool) or not isinstance(n, int) or n < need:
        raise ConfigError(
            f"config key 'data.source.{ROWS_ARG}' is {n!r}; it must be an integer >= {need}{parts}"
        )


def load_source(name: str, args: dict[str, Any], split: dict[str, Any] | None = None) -> Dataset:
    """Run source `name`; one with a `split` parameter also gets the data.split node."""
    check_source_args(name, args)
    check_row_count(args, split)
    if SPLIT_ARG in inspect.signature(SOURCES[name]).parameters:
        args = {**args, SPLIT_ARG: split}
    try:
        return SOURCES[name](**args)
    except (TypeError, ValueError) as err:
        raise ConfigError(f"config key 'data.source' for {name!r}: {err}") from None
