"""Dataset sources: each turns config arguments into arrays and metadata, with no download.

A source returns X as float32 [n, d], y as int64 class indices (classification) and a meta
dict (task, feature and class names). Add a source by adding a function to SOURCES.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mlplab.errors import ConfigError


@dataclass
class Dataset:
    X: np.ndarray
    y: np.ndarray
    meta: dict[str, Any] = field(default_factory=dict)


def _classification(X: np.ndarray, y: np.ndarray, class_names: list[str], **meta: Any) -> Dataset:
    return Dataset(
        X=np.ascontiguousarray(X, dtype=np.float32),
        y=np.ascontiguousarray(y, dtype=np.int64),
        meta={
            "task": "multiclass",
            "class_names": [str(c) for c in class_names],
            "feature_names": meta.pop("feature_names", [f"x{i}" for i in range(X.shape[1])]),
            **meta,
        },
    )


def digits() -> Dataset:
    """scikit-learn's bundled 8x8 digits (1797 rows, 64 features, 10 classes)."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return _classification(
        bunch.data,
        bunch.target,
        [str(c) for c in bunch.target_names],
        feature_names=list(bunch.feature_names),
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


SOURCES: dict[str, Callable[..., Dataset]] = {
    "digits": digits,
    "circles": circles,
    "moons": moons,
}


def check_source_args(name: str, args: dict[str, Any]) -> None:
    """Raise ConfigError unless `name` is a source and `args` fit its signature."""
    if name not in SOURCES:
        raise ConfigError(
            f"config key 'data.name' is {name!r}; allowed values: {', '.join(sorted(SOURCES))}"
        )
    signature = inspect.signature(SOURCES[name])
    allowed = list(signature.parameters)
    for key in args:
        if key not in allowed:
            raise ConfigError(
                f"config key 'data.source.{key}' is not an argument of data source {name!r}; "
                f"allowed keys: {', '.join(allowed) or '(none)'}"
            )


def load_source(name: str, args: dict[str, Any]) -> Dataset:
    check_source_args(name, args)
    try:
        return SOURCES[name](**args)
    except (TypeError, ValueError) as err:
        raise ConfigError(f"config key 'data.source' for {name!r}: {err}") from None
