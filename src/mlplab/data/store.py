"""The prepared-array store: <data_dir>/<name>/{X.npy, y.npy, meta.json}, written atomically.

Arrays are read back memory-mapped, so DDP ranks share one page cache and data larger than
RAM trains without being loaded whole.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mlplab.atomic import atomic_dir
from mlplab.data.sources import Dataset, load_source
from mlplab.errors import DataError

log = logging.getLogger(__name__)

FILES = ("X.npy", "y.npy", "meta.json")


@dataclass
class Prepared:
    X: np.ndarray  # float32 [n, d], memory-mapped
    y: np.ndarray  # int64 [n]
    meta: dict[str, Any]


def source_record(name: str, args: dict[str, Any]) -> dict[str, Any]:
    """What meta.json stores to tell whether prepared arrays match the current config."""
    return {"name": name, "args": dict(sorted(args.items()))}


def write_prepared(directory: str | Path, dataset: Dataset, source: dict[str, Any]) -> None:
    """Write the arrays and meta.json; a crash leaves the previous directory untouched."""
    X, y = dataset.X, dataset.y
    meta = {**dataset.meta, "n_rows": int(X.shape[0]), "n_features": int(X.shape[1])}
    meta["source"] = source
    with atomic_dir(directory) as tmp:
        np.save(tmp / "X.npy", X)
        np.save(tmp / "y.npy", y)
        (tmp / "meta.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")


def read_prepared(directory: str | Path) -> Prepared:
    directory = Path(directory)
    for name in FILES:
        if not (directory / name).is_file():
            raise DataError(
                f"prepared data file {directory / name} is missing; "
                "run `python src/prepare.py` (or `dvc repro prepare`) with the same data config"
            )
    try:
        meta = json.loads((directory / "meta.json").read_text())
        X = np.load(directory / "X.npy", mmap_mode="r")
        y = np.load(directory / "y.npy", mmap_mode="r")
    except (ValueError, OSError) as err:
        raise DataError(f"prepared data in {directory} is unreadable: {err}") from None
    if X.ndim != 2 or y.ndim != 1 or len(X) != len(y):
        raise DataError(
            f"prepared data in {directory} is malformed: X has shape {X.shape}, y has shape "
            f"{y.shape}; expected X [n, d] and y [n]"
        )
    return Prepared(X=X, y=y, meta=meta)


def is_current(directory: str | Path, source: dict[str, Any]) -> bool:
    meta_file = Path(directory) / "meta.json"
    if not all((Path(directory) / name).is_file() for name in FILES):
        return False
    try:
        return json.loads(meta_file.read_text()).get("source") == source
    except ValueError:
        return False


def prepare(data_dir: str | Path, name: str, args: dict[str, Any], force: bool = True) -> Path:
    """Build dataset `name` from its source and store it; skip if current and not `force`."""
    directory = Path(data_dir) / name
    source = source_record(name, args)
    if not force and is_current(directory, source):
        return directory
    dataset = load_source(name, args)
    write_prepared(directory, dataset, source)
    log.info("prepared %s: %d rows x %d features -> %s", name, *dataset.X.shape, directory)
    return directory
