"""The prepared-array store: <data_dir>/<name>/<key>/{X.npy, y.npy, meta.json}, written
atomically.

<key> is 12 hex digits of the sha256 of what determines the arrays (source name and arguments,
a user file's sha256, the split), so two configs never share or overwrite a folder, and every
stage finds the folder from its config alone (`prepared_dir`). Concurrent prepares of one key
take turns on a lock file, <key>.lock beside the folder: the second reuses the first's arrays.
Arrays are read back memory-mapped, so DDP ranks share one page cache and data larger than
RAM trains without being loaded whole.
"""

from __future__ import annotations

import fcntl
import hashlib
import itertools
import json
import logging
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from mlplab.atomic import atomic_dir
from mlplab.data.dataset import Dataset
from mlplab.data.files import file_digest
from mlplab.data.sources import load_source
from mlplab.data.split import split_rows
from mlplab.errors import DataError

log = logging.getLogger(__name__)

FILES = ("X.npy", "y.npy", "meta.json")


@dataclass
class Prepared:
    X: np.ndarray  # float32 [n, d], memory-mapped
    y: np.ndarray  # int64 [n]
    meta: dict[str, Any]


def source_record(
    name: str, args: dict[str, Any], split: dict[str, Any] | None = None
) -> dict[str, Any]:
    """What determines prepared arrays: meta.json stores it, and its hash names the folder."""
    record: dict[str, Any] = {"name": name, "args": dict(sorted(args.items()))}
    if split is not None:
        record["split"] = dict(sorted(split.items()))
    if isinstance(args.get("path"), str):  # a file source: an edited file is a new source
        record["file_sha256"] = file_digest(args["path"])
    return record


def _keyed_dir(data_dir: str | Path, record: dict[str, Any]) -> Path:
    key = hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()[:12]
    return Path(data_dir) / record["name"] / key


def prepared_dir(
    data_dir: str | Path, name: str, args: dict[str, Any], split: dict[str, Any] | None = None
) -> Path:
    """The folder holding dataset `name` prepared from `args` and `split` (the data.source and
    data.split nodes): <data_dir>/<name>/<12 hex digits of their hash and any file's sha256>."""
    return _keyed_dir(data_dir, source_record(name, args, split))


@contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """Hold an exclusive lock on <directory>.lock: one prepare of a key at a time."""
    directory.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(directory.with_name(directory.name + ".lock"), os.O_RDONLY | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # released when fd closes, even if this process dies
        yield
    finally:
        os.close(fd)


def _write_header(file: BinaryIO, dtype: np.dtype, shape: tuple[int, ...]) -> None:
    header = {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False}
    np.lib.format.write_array_header_1_0(file, {**header, "shape": shape})


def _write_chunks(tmp: Path, chunks: Iterable[tuple[np.ndarray, np.ndarray]], n_rows: int) -> None:
    """Append each chunk to X.npy and y.npy behind a header sized for all `n_rows`.

    Plain file writes, not a writable memmap: written pages go to the page cache instead of
    staying in this process's resident memory, so peak memory is one chunk, not the data.
    """
    written = 0
    chunks = iter(chunks)
    X0, y0 = next(chunks, (np.empty((0, 0)), np.empty(0)))
    with (tmp / "X.npy").open("wb") as fx, (tmp / "y.npy").open("wb") as fy:
        _write_header(fx, X0.dtype, (n_rows, *X0.shape[1:]))
        _write_header(fy, y0.dtype, (n_rows, *y0.shape[1:]))
        for X, y in itertools.chain([(X0, y0)], chunks):
            if len(X) != len(y) or X.shape[1:] != X0.shape[1:] or y.shape[1:] != y0.shape[1:]:
                raise DataError(f"chunk of rows {written}.. has shapes {X.shape}, {y.shape}")
            np.ascontiguousarray(X, dtype=X0.dtype).tofile(fx)
            np.ascontiguousarray(y, dtype=y0.dtype).tofile(fy)
            written += len(X)
    if written != n_rows:
        raise DataError(f"the data source announced {n_rows} rows but produced {written}")


def write_prepared(
    directory: str | Path,
    dataset: Dataset,
    source: dict[str, Any],
    split: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Write the arrays and meta.json; a crash leaves the previous directory untouched.

    With `split` (the data.split node), meta.json records the split's digest and sizes. They
    are computed from the written y, memory-mapped, so chunked X is never loaded whole.
    Returns the meta written.
    """
    with atomic_dir(directory) as tmp:
        if dataset.chunks is None:
            assert dataset.X is not None and dataset.y is not None, (
                "a Dataset holds arrays or chunks"
            )
            np.save(tmp / "X.npy", dataset.X)
            np.save(tmp / "y.npy", dataset.y)
        else:
            assert dataset.n_rows is not None, "chunked data announces its row count"
            _write_chunks(tmp, dataset.chunks, dataset.n_rows)
        X = np.load(tmp / "X.npy", mmap_mode="r")
        y = np.load(tmp / "y.npy", mmap_mode="r")
        meta = {**dataset.meta, "n_rows": int(X.shape[0]), "n_features": int(X.shape[1])}
        meta["source"] = source
        if split is not None:
            parts = split_rows(y, meta["task"], split)
            meta["split"] = {"digest": parts.digest(), "sizes": list(parts.sizes())}
        del X, y
        (tmp / "meta.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    return meta


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
    if X.ndim != 2 or y.ndim not in (1, 2) or len(X) != len(y):
        raise DataError(
            f"prepared data in {directory} is malformed: X has shape {X.shape}, y has shape "
            f"{y.shape}; expected X [n, d] and y [n] (or [n, labels])"
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


def prepare(
    data_dir: str | Path,
    name: str,
    args: dict[str, Any],
    split: dict[str, Any] | None = None,
    force: bool = True,
) -> Path:
    """Build dataset `name` from its source into `prepared_dir(data_dir, name, args, split)`;
    skip if it is there already and not `force`. A prepare of the same key in another process
    is waited for, and its arrays are reused.

    With `split` (the data.split node), meta.json records the split's digest and sizes, so
    the report and later stages can name the exact rows each part holds.
    """
    source = source_record(name, args, split)
    directory = _keyed_dir(data_dir, source)
    was_current = is_current(directory, source)
    if was_current and not force:
        return directory
    dataset = load_source(name, args, split)  # every check, before anything is written
    if dataset.y is not None and split is not None:
        split_rows(dataset.y, dataset.meta["task"], split)
    with _locked(directory):
        if is_current(directory, source) and not (force and was_current):
            log.info("%s was prepared meanwhile by another process; reusing it", directory)
            return directory
        meta = write_prepared(directory, dataset, source, split)
    log.info(
        "prepared %s: %d rows x %d features -> %s",
        name,
        meta["n_rows"],
        meta["n_features"],
        directory,
    )
    return directory
