"""Reading a run directory's files: required ones raise DataError naming the file, optional
ones are None when absent, and `committed` is the version of a file at git's HEAD (what
`dvc metrics diff` compares against)."""

from __future__ import annotations

import csv
import json
import math
import subprocess
from pathlib import Path
from typing import Any

import numpy as np

from mlplab.errors import DataError

Columns = dict[str, list[Any]]


def read_json(path: Path) -> Any:
    if not path.is_file():
        raise DataError(f"report input {path} is missing; run the earlier stages first")
    return _parse(path.read_text(), path)


def optional_json(path: Path) -> Any | None:
    return read_json(path) if path.is_file() else None


def _parse(text: str, source: Path | str) -> Any:
    try:
        return json.loads(text)
    except ValueError as err:
        raise DataError(f"report input {source} is not valid JSON: {err}") from None


def read_columns(path: Path, numeric: bool = True) -> Columns:
    """A CSV file as {column: values}; numeric columns become floats (blank -> nan)."""
    if not path.is_file():
        raise DataError(f"report input {path} is missing; run the earlier stages first")
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        rows = list(reader)
        columns = list(reader.fieldnames or [])
    if not numeric:
        return {c: [r[c] for r in rows] for c in columns}
    try:
        return {c: [float(r[c]) if r[c] != "" else math.nan for r in rows] for c in columns}
    except ValueError as err:
        raise DataError(f"report input {path} has a non-numeric cell: {err}") from None


def optional_columns(path: Path, numeric: bool = True) -> Columns | None:
    return read_columns(path, numeric) if path.is_file() else None


def committed(path: Path) -> Any | None:
    """The JSON file `path` as committed at HEAD of the git repository it lies in; None outside
    git, or when HEAD has no such file (a run directory under the ignored logs/, a new file)."""
    folder = path.resolve().parent
    try:
        top = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"],
            cwd=folder if folder.is_dir() else None,
            capture_output=True,
            text=True,
            timeout=10,
        )
        if top.returncode != 0:
            return None
        relative = path.resolve().relative_to(Path(top.stdout.strip()).resolve()).as_posix()
        shown = subprocess.run(
            ["git", "show", f"HEAD:{relative}"],
            cwd=top.stdout.strip(),
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError, ValueError):
        return None
    if shown.returncode != 0:
        return None
    return _parse(shown.stdout, f"HEAD:{relative}")


def confusion_counts(pairs: list[dict[str, str]], class_names: list[str]) -> np.ndarray:
    """Counts with actual classes as rows, predicted as columns."""
    index = {name: i for i, name in enumerate(class_names)}
    counts = np.zeros((len(class_names), len(class_names)), dtype=int)
    for pair in pairs:
        counts[index[pair["actual"]], index[pair["predicted"]]] += 1
    return counts


def class_support(
    class_names: list[str], pairs: list[dict[str, str]], predictions: Columns | None
) -> dict[str, int] | None:
    """Test rows per class: from the confusion pairs (one class per row), else from the
    predictions' `actual` label sets (multilabel: labels joined by `;`); None without either."""
    support = dict.fromkeys(class_names, 0)
    if pairs:
        actual = [p["actual"] for p in pairs]
    elif predictions is not None and "actual" in predictions:
        actual = [label for cell in predictions["actual"] for label in cell.split(";") if label]
    else:
        return None
    for name in actual:
        if name in support:
            support[name] += 1
    return support
