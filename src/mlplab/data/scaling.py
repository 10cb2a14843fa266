"""Feature scaling statistics, fitted on the train split only and applied inside the model.

A scaling is an affine map (x - shift) / scale. The model stores shift and scale as buffers,
so every checkpoint carries the statistics it was trained with and predicts on raw features.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

CHUNK_ROWS = 65_536  # statistics are accumulated in chunks so memory-mapped data stays on disk

Stats = tuple[np.ndarray, np.ndarray]


def _chunks(X: np.ndarray, rows: np.ndarray):
    for start in range(0, len(rows), CHUNK_ROWS):
        yield np.asarray(X[rows[start : start + CHUNK_ROWS]], dtype=np.float64)


def standard(X: np.ndarray, rows: np.ndarray) -> Stats:
    """Zero mean, unit variance per feature (population std, as scikit-learn's StandardScaler)."""
    total = np.zeros(X.shape[1])
    total_sq = np.zeros(X.shape[1])
    for chunk in _chunks(X, rows):
        total += chunk.sum(axis=0)
        total_sq += (chunk**2).sum(axis=0)
    mean = total / len(rows)
    std = np.sqrt(np.maximum(total_sq / len(rows) - mean**2, 0.0))
    return mean, std


def minmax(X: np.ndarray, rows: np.ndarray) -> Stats:
    """Each feature mapped to [0, 1] on the train split."""
    lo = np.full(X.shape[1], np.inf)
    hi = np.full(X.shape[1], -np.inf)
    for chunk in _chunks(X, rows):
        lo = np.minimum(lo, chunk.min(axis=0))
        hi = np.maximum(hi, chunk.max(axis=0))
    return lo, hi - lo


def none(X: np.ndarray, rows: np.ndarray) -> Stats:
    return np.zeros(X.shape[1]), np.ones(X.shape[1])


SCALINGS: dict[str, Callable[[np.ndarray, np.ndarray], Stats]] = {
    "standard": standard,
    "minmax": minmax,
    "none": none,
}


def fit_scaling(name: str, X: np.ndarray, train_rows: np.ndarray) -> Stats:
    """Return float32 (shift, scale); a constant feature gets scale 1 instead of 0."""
    shift, scale = SCALINGS[name](X, np.sort(train_rows))
    scale = np.where(scale > 1e-12, scale, 1.0)
    return shift.astype(np.float32), scale.astype(np.float32)
