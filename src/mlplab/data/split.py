"""The seeded train/val/test split: a pure function of (n, seed, fractions, labels).

It never looks at the device count, the model seed or the clock, so every DDP rank, every
run and every stage (train, evaluate) computes the same indices.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from mlplab.errors import DataError


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


def split_sizes(n: int, val: float, test: float) -> tuple[int, int, int]:
    n_val, n_test = round(n * val), round(n * test)
    n_train = n - n_val - n_test
    for name, size, fraction in (
        ("train", n_train, 1 - val - test),
        ("val", n_val, val),
        ("test", n_test, test),
    ):
        if size < 1:
            raise DataError(
                f"config key 'data.split.{name}' = {fraction:g} leaves the {name} split empty "
                f"for {n} rows; raise the fraction or use more data"
            )
    return n_train, n_val, n_test


def split_indices(
    n: int, val: float, test: float, seed: int, labels: np.ndarray | None = None
) -> Split:
    """Split range(n) into sorted train/val/test index arrays; stratified when labels given."""
    _, n_val, n_test = split_sizes(n, val, test)
    rows = np.arange(n)
    if labels is None:
        order = np.random.default_rng(seed).permutation(n)
        test_rows, val_rows, train_rows = np.split(order, [n_test, n_test + n_val])
    else:
        from sklearn.model_selection import train_test_split

        try:
            rest, test_rows = train_test_split(
                rows, test_size=n_test, stratify=labels, random_state=seed
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
