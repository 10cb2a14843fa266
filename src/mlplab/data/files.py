"""User files: which format a path holds, its content digest, and reading it as a table.

pandas is imported only when a file is read. The `csv` and `parquet` sources are in
file_sources.py; tables.py turns a table read here into a Dataset.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlplab.errors import DataError

if TYPE_CHECKING:
    import pandas as pd

PARQUET_SUFFIXES = (".parquet", ".pq")


def file_format(path: str | Path) -> str:
    """'parquet' for .parquet/.pq files, else 'csv'."""
    return "parquet" if Path(path).suffix.lower() in PARQUET_SUFFIXES else "csv"


def file_digest(path: str | Path) -> str | None:
    """sha256 of a file (None if absent): prepare treats an edited file as a new source."""
    if not Path(path).is_file():
        return None
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def read_table(
    path: str | Path, fmt: str, text_columns: Any = (), key: str = "data.source.path"
) -> pd.DataFrame:
    """Read a CSV or Parquet file; CSV `text_columns` are read as text, so categories stay as
    written. A missing, empty or unreadable file is a DataError naming the file and `key`."""
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise DataError(f"data file {path} does not exist (config key '{key}')")
    try:
        if fmt == "parquet":
            frame = pd.read_parquet(path)
        else:
            frame = pd.read_csv(path, dtype={c: "str" for c in text_columns})
    except pd.errors.EmptyDataError:
        raise DataError(f"data file {path} is empty (config key '{key}')") from None
    except (ValueError, OSError, pd.errors.ParserError) as err:
        first = (str(err).splitlines() or [type(err).__name__])[0]
        raise DataError(f"data file {path} is not a readable {fmt} file: {first}") from None
    if frame.empty:
        raise DataError(f"data file {path} has a header but no rows (config key '{key}')")
    frame.columns = [str(c) for c in frame.columns]
    return frame
