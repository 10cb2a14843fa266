"""Dataset sources: each turns config arguments into arrays and metadata, with no download.

A source returns X as float32 [n, d], y as int64 class indices (classification) and a meta
dict (task, feature and class names). Add a source by adding a function to SOURCES.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mlplab.data.files import csv_file, parquet_file
from mlplab.data.mnist_1d import mnist1d
from mlplab.data.synthetic import synthetic_classification, synthetic_regression
from mlplab.data.text import names
from mlplab.errors import ConfigError


@dataclass
class Dataset:
    """Arrays in memory, or, for data too big to hold twice, `chunks` of (X, y) rows that the
    store writes straight to disk: then X and y are None and `n_rows` is the total."""

    X: np.ndarray | None
    y: np.ndarray | None
    meta: dict[str, Any] = field(default_factory=dict)
    chunks: Iterable[tuple[np.ndarray, np.ndarray]] | None = None
    n_rows: int | None = None


def _feature_names(X: np.ndarray, names: Any = None) -> list[str]:
    return [str(n) for n in names] if names is not None else [f"x{i}" for i in range(X.shape[1])]


def _classification(
    X: np.ndarray, y: np.ndarray, class_names: Any, feature_names: Any = None
) -> Dataset:
    """Class-index targets; two classes make a binary task (one logit), more a multiclass one."""
    return Dataset(
        X=np.ascontiguousarray(X, dtype=np.float32),
        y=np.ascontiguousarray(y, dtype=np.int64),
        meta={
            "task": "binary" if len(class_names) == 2 else "multiclass",
            "class_names": [str(c) for c in class_names],
            "feature_names": _feature_names(X, feature_names),
        },
    )


def _regression(X: np.ndarray, y: np.ndarray, target: str, feature_names: Any = None) -> Dataset:
    return Dataset(
        X=np.ascontiguousarray(X, dtype=np.float32),
        y=np.ascontiguousarray(y, dtype=np.float32),
        meta={
            "task": "regression",
            "target_names": [target],
            "feature_names": _feature_names(X, feature_names),
        },
    )


def digits() -> Dataset:
    """scikit-learn's bundled 8x8 digits (1797 rows, 64 features, 10 classes)."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return _classification(bunch.data, bunch.target, bunch.target_names, bunch.feature_names)


def breast_cancer() -> Dataset:
    """scikit-learn's bundled Wisconsin breast cancer set (569 rows, 30 features, binary)."""
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer()
    return _classification(bunch.data, bunch.target, bunch.target_names, bunch.feature_names)


def diabetes() -> Dataset:
    """scikit-learn's bundled diabetes regression set (442 rows, 10 features)."""
    from sklearn.datasets import load_diabetes

    bunch = load_diabetes()
    return _regression(bunch.data, bunch.target, "progression", bunch.feature_names)


def multilabel(
    n_samples: int = 2000, n_features: int = 20, n_labels: int = 5, seed: int = 0
) -> Dataset:
    """Synthetic multi-label data (make_multilabel_classification): several labels per row."""
    from sklearn.datasets import make_multilabel_classification

    X, Y = make_multilabel_classification(
        n_samples=n_samples, n_features=n_features, n_classes=n_labels, random_state=seed
    )
    return Dataset(
        X=np.ascontiguousarray(X, dtype=np.float32),
        y=np.ascontiguousarray(Y, dtype=np.int64),
        meta={
            "task": "multilabel",
            "class_names": [f"label_{i}" for i in range(n_labels)],
            "feature_names": _feature_names(X),
        },
    )


def circles(
    n_samples: int = 1000, noise: float = 0.05, factor: float = 0.5, seed: int = 0
) -> Dataset:
    """Two concentric circles (make_circles); class 1 is the inner circle."""
    from sklearn.datasets import make_circles

    X, y = make_circles(n_samples=n_samples, noise=noise, factor=factor, random_state=seed)
    return _classification(X, y, ["outer", "inner"])


def moons(n_samples: int = 1000, noise: float = 0.2, seed: int = 0) -> Dataset:
    """Two interleaving half-moons (make_moons)."""
    from sklearn.datasets import make_moons

    X, y = make_moons(n_samples=n_samples, noise=noise, random_state=seed)
    return _classification(X, y, ["upper", "lower"])


def iris() -> Dataset:
    """scikit-learn's bundled iris flowers (150 rows, 4 features, 3 classes)."""
    from sklearn.datasets import load_iris

    bunch = load_iris()
    return _classification(bunch.data, bunch.target, bunch.target_names, bunch.feature_names)


def wine() -> Dataset:
    """scikit-learn's bundled wine recognition set (178 rows, 13 features, 3 classes)."""
    from sklearn.datasets import load_wine

    bunch = load_wine()
    return _classification(bunch.data, bunch.target, bunch.target_names, bunch.feature_names)


def blobs(
    n_samples: int = 1000,
    centers: int = 3,
    n_features: int = 2,
    cluster_std: float = 1.0,
    seed: int = 0,
) -> Dataset:
    """Isotropic Gaussian blobs (make_blobs), one class per center."""
    from sklearn.datasets import make_blobs

    X, y = make_blobs(
        n_samples=n_samples,
        centers=centers,
        n_features=n_features,
        cluster_std=cluster_std,
        random_state=seed,
    )
    return _classification(X, y, [str(c) for c in range(centers)])


SOURCES: dict[str, Callable[..., Dataset]] = {
    "digits": digits,
    "breast_cancer": breast_cancer,
    "diabetes": diabetes,
    "multilabel": multilabel,
    "circles": circles,
    "moons": moons,
    "iris": iris,
    "wine": wine,
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


def check_source_args(name: str, args: dict[str, Any]) -> None:
    """Raise ConfigError unless `name` is a source and `args` fit its signature."""
    if name not in SOURCES:
        raise ConfigError(
            f"config key 'data.name' is {name!r}; allowed values: {', '.join(sorted(SOURCES))}"
        )
    signature = inspect.signature(SOURCES[name])
    allowed = [p for p in signature.parameters if p != SPLIT_ARG]
    for key in args:
        if key not in allowed:
            raise ConfigError(
                f"config key 'data.source.{key}' is not an argument of data source {name!r}; "
                f"allowed keys: {', '.join(allowed) or '(none)'}"
            )


def load_source(name: str, args: dict[str, Any], split: dict[str, Any] | None = None) -> Dataset:
    """Run source `name`; one with a `split` parameter also gets the data.split node."""
    check_source_args(name, args)
    if SPLIT_ARG in inspect.signature(SOURCES[name]).parameters:
        args = {**args, SPLIT_ARG: split}
    try:
        return SOURCES[name](**args)
    except (TypeError, ValueError) as err:
        raise ConfigError(f"config key 'data.source' for {name!r}: {err}") from None
