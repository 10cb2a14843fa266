"""Synthetic classification and regression of any size, generated in fixed blocks of rows.

Row i depends only on (seed, i): block i // BLOCK_ROWS is drawn from its own generator seeded
by (seed, block index), and the problem itself (class centroids, the regression function)
from the seed alone. So the data is the same whatever chunk size the store writes with, and a
larger `n_samples` extends a smaller one. The sources hand the store an iterator of chunks
that it writes straight to disk: 10 M rows x 64 features (2.6 GB) are never in memory at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import lru_cache

import numpy as np

from mlplab.data.dataset import Dataset

BLOCK_ROWS = 8192  # rows per seeded block; 2 MB of float32 at 64 features
CHUNK_ROWS = BLOCK_ROWS  # rows per chunk handed to the store (any value gives equal data)
_PARAMS, _ROWS = 0, 1  # stream ids: the problem's parameters, and the rows of each block

Block = tuple[np.ndarray, np.ndarray]


def _require(ok: bool, message: str) -> None:
    if not ok:
        raise ValueError(message)


def row_chunks(block: Callable[[int], Block], n_rows: int) -> Iterator[Block]:
    """Rows [0, n_rows) in chunks of CHUNK_ROWS, cut out of the fixed-size blocks."""
    block = lru_cache(maxsize=2)(block)  # a chunk edge inside a block reuses it
    for start in range(0, n_rows, CHUNK_ROWS):
        stop = min(start + CHUNK_ROWS, n_rows)
        first = start // BLOCK_ROWS
        parts = [block(b) for b in range(first, (stop - 1) // BLOCK_ROWS + 1)]
        X = parts[0][0] if len(parts) == 1 else np.concatenate([p[0] for p in parts])
        y = parts[0][1] if len(parts) == 1 else np.concatenate([p[1] for p in parts])
        offset = start - first * BLOCK_ROWS
        yield X[offset : offset + stop - start], y[offset : offset + stop - start]


def _rows_rng(seed: int, block: int) -> np.random.Generator:
    return np.random.default_rng([seed, _ROWS, block])


def _chunked(meta: dict, block: Callable[[int], Block], n_rows: int) -> Dataset:
    return Dataset(X=None, y=None, meta=meta, chunks=row_chunks(block, n_rows), n_rows=n_rows)


def synthetic_classification(
    *,
    n_samples: int,
    n_features: int,
    n_classes: int,
    n_clusters_per_class: int,
    class_sep: float,
    seed: int,
) -> Dataset:
    """A Gaussian mixture: each class owns `n_clusters_per_class` centroids drawn once from
    N(0, class_sep^2 I); a row is a uniformly chosen class and cluster's centroid plus N(0, I)
    noise. Several clusters per class make the boundary nonlinear (the MLP has work to do)."""
    _require(n_samples >= 1, f"n_samples must be >= 1, got {n_samples}")
    _require(n_features >= 1, f"n_features must be >= 1, got {n_features}")
    _require(n_classes >= 2, f"n_classes must be >= 2, got {n_classes}")
    _require(
        n_clusters_per_class >= 1, f"n_clusters_per_class must be >= 1, got {n_clusters_per_class}"
    )
    _require(class_sep > 0, f"class_sep must be > 0, got {class_sep}")
    params = np.random.default_rng([seed, _PARAMS])
    centroids = params.standard_normal((n_classes, n_clusters_per_class, n_features))
    centroids = (centroids * class_sep).astype(np.float32)

    def block(index: int) -> Block:
        rng = _rows_rng(seed, index)
        y = rng.integers(n_classes, size=BLOCK_ROWS)
        cluster = rng.integers(n_clusters_per_class, size=BLOCK_ROWS)
        X = rng.standard_normal((BLOCK_ROWS, n_features), dtype=np.float32)
        X += centroids[y, cluster]
        return X, y

    meta = {
        "task": "binary" if n_classes == 2 else "multiclass",
        "class_names": [str(c) for c in range(n_classes)],
        "feature_names": [f"x{i}" for i in range(n_features)],
    }
    return _chunked(meta, block, n_samples)


def synthetic_regression(
    *,
    n_samples: int,
    n_features: int,
    hidden_units: int,
    noise: float,
    seed: int,
) -> Dataset:
    """y = f(x) + N(0, noise^2) for x ~ N(0, I), where f(x) = tanh(x W1) w2 is a random
    one-hidden-layer network drawn once from the seed (W1 ~ N(0, 1/d), w2 ~ N(0, 1/h)), so
    an MLP can fit it up to the noise: Var f(x) is about 0.4."""
    _require(n_samples >= 1, f"n_samples must be >= 1, got {n_samples}")
    _require(n_features >= 1, f"n_features must be >= 1, got {n_features}")
    _require(hidden_units >= 1, f"hidden_units must be >= 1, got {hidden_units}")
    _require(noise >= 0, f"noise must be >= 0, got {noise}")
    params = np.random.default_rng([seed, _PARAMS])
    W1 = (params.standard_normal((n_features, hidden_units)) / np.sqrt(n_features)).astype(
        np.float32
    )
    w2 = (params.standard_normal(hidden_units) / np.sqrt(hidden_units)).astype(np.float32)

    def block(index: int) -> Block:
        rng = _rows_rng(seed, index)
        X = rng.standard_normal((BLOCK_ROWS, n_features), dtype=np.float32)
        y = np.tanh(X @ W1) @ w2
        y += np.float32(noise) * rng.standard_normal(BLOCK_ROWS, dtype=np.float32)
        return X, y

    meta = {
        "task": "regression",
        "target_names": ["y"],
        "feature_names": [f"x{i}" for i in range(n_features)],
    }
    return _chunked(meta, block, n_samples)
