"""MNIST-1D (Greydanus 2020): ten 1-D digit templates, padded, shifted, scaled, sheared and
noised into 40-sample signals; small enough for a CPU, hard enough to separate MLPs from
linear models.

Generated locally with the `mnist1d` package's own generator and its default arguments (never
its download function). Its 4000/1000 train/test cut is concatenated into one 5000-row array
so our seeded split applies like to every other dataset.
"""

from __future__ import annotations

import random

import numpy as np

from mlplab.data.dataset import Dataset, classification


def mnist1d() -> Dataset:
    """5000 rows, 40 features, 10 classes (the package's default arguments, seed 42)."""
    from mnist1d.data import get_dataset_args, make_dataset

    # make_dataset seeds the global `random` and numpy generators; leave ours as they were.
    numpy_state, python_state = np.random.get_state(), random.getstate()
    try:
        data = make_dataset(get_dataset_args())
    finally:
        np.random.set_state(numpy_state)
        random.setstate(python_state)
    X = np.concatenate([data["x"], data["x_test"]])
    y = np.concatenate([data["y"], data["y_test"]])
    return classification(X, y, [str(c) for c in range(10)], [f"t{i}" for i in range(40)])
