"""The seeded train/val/test split: a pure function of (n, seed, fractions, labels).

It never looks at the device count, the model seed or the clock, so every DDP rank, every
run and every stage (train, evaluate) computes the same indices.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from mlplab.errors import ConfigError, DataError


@dataclass(frozen=True)
class Split:
    train: np.ndarray
    val: np.ndarray
    test: np.ndarray

    def sizes(self) -> tuple[int, int, int]:
        return len(self.train), len(self.val), len(self.test)

    def digest(self) -> str:
        """A short hash of the three index sets, recorded in checkpoints and reports."""
        h = hashlib.sha256()
        for part in (self.train, self.val, self.test):
            h.update(np.asarray(part, dtype=np.int64).tobytes())
            h.update(b"|")
        return h.hexdigest()[:16]


def _is_count(value: float) -> bool:
    return value >= 1 and float(value).is_integer()


def check_split_parts(train: float, val: float, test: float) -> None:
    """The data.split rule, checked once when the config is validated: all three fractions in
    (0, 1) summing to 1, or all three whole row counts >= 1; never a mix. A ConfigError names
    the key."""
    parts = {"train": train, "val": val, "test": test}
    if all(_is_count(v) for v in parts.values()):
        return
    for name, value in parts.items():
        if not 0 < value < 1:
            raise ConfigError(
                f"config key 'data.split.{name}' is {value!r}; it must be a fraction in (0, 1), "
                "or a row count >= 1 for all three parts"
            )
    total = train + val + test
    if not math.isclose(total, 1.0, abs_tol=1e-6):
        raise ConfigError(
            f"config keys data.split.{{train,val,test}} sum to {total:g}; they must sum to 1"
        )


def split_sizes(n: int, train: float, val: float, test: float) -> tuple[int, int, int]:
    """Row counts of each part of n rows, for parts that pass check_split_parts. Counts are
    taken as given (rows beyond their sum are left out); for fractions, train takes what
    rounding leaves. A DataError if the data is too small for them."""
    parts = {"train": train, "val": val, "test": test}
    if all(_is_count(v) for v in parts.values()):
        sizes = {k: int(v) for k, v in parts.items()}
        if sum(sizes.values()) > n:
            raise DataError(
                f"config keys data.split.{{train,val,test}} ask for {sum(sizes.values())} rows "
                f"but the data has {n}"
            )
    else:
        sizes = {"val": round(n * val), "test": round(n * test)}
        sizes["train"] = n - sizes["val"] - sizes["test"]
    for name, size in sizes.items():
        if size < 1:
            raise DataError(
                f"config key 'data.split.{name}' = {parts[name]:g} leaves the {name} split "
                f"empty for {n} rows; raise it or use more data"
            )
    return sizes["train"], sizes["val"], sizes["test"]


def min_rows(train: float, val: float, test: float) -> int:
    """The fewest rows that give every part at least one row (parts that pass
    check_split_parts): the counts' sum, or the first n that rounding leaves no part empty."""
    if all(_is_count(v) for v in (train, val, test)):
        return int(train + val + test)
    n = max(1, math.ceil(0.5 / min(train, val, test)) - 1)
    while True:
        n_val, n_test = round(n * val), round(n * test)
        if n_val >= 1 and n_test >= 1 and n - n_val - n_test >= 1:
            return n
        n += 1


def split_indices(
    n: int,
    train: float,
    val: float,
    test: float,
    seed: int,
    labels: np.ndarray | None = None,
) -> Split:
    """Split range(n) into sorted train/val/test index arrays; stratified when labels given."""
    n_train, n_val, n_test = split_sizes(n, train, val, test)
    rows = np.arange(n)
    if labels is None:
        order = np.random.default_rng(seed).permutation(n)
        test_rows, val_rows, train_rows, _ = np.split(
            order, [n_test, n_test + n_val, n_test + n_val + n_train]
        )
    else:
        from sklearn.model_selection import train_test_split

        try:
            if n_train + n_val + n_test < n:  # counts: leave the surplus rows out, stratified
                rows, _ = train_test_split(
                    rows, train_size=n_train + n_val + n_test, stratify=labels, random_state=seed
                )
            rest, test_rows = train_test_split(
                rows, test_size=n_test, stratify=labels[rows], random_state=seed
            )
            train_rows, val_rows = train_test_split(
                rest, test_size=n_val, stratify=labels[rest], random_state=seed
            )
        except ValueError as err:
            raise DataError(
                f"cannot stratify the split (config key 'data.split.stratify'): {err}; "
                "set data.split.stratify=false or use larger fractions"
            ) from None
    return Split(*(np.sort(part).astype(np.int64) for part in (train_rows, val_rows, test_rows)))


def split_rows(y: np.ndarray, task: str, split: dict[str, Any]) -> Split:
    """The split every stage uses (`split` is the data.split config node); stratified on the
    class labels of single-label classification tasks."""
    labels = None
    if split["stratify"] and task in ("multiclass", "binary"):
        labels = np.asarray(y)
    return split_indices(len(y), split["train"], split["val"], split["test"], split["seed"], labels)
