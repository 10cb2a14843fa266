"""User files: which format a path holds, its content digest, and reading it as a table.

pandas is imported only when a file is read. The `csv` and `parquet` sources are in
file_sources.py; tables.py turns a table read here into a Dataset.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlplab.errors import ConfigError, DataError

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


def check_encoding(encoding: Any, key: str = "data.source.encoding") -> None:
    """A ConfigError unless `encoding` names a text codec Python knows."""
    try:
        ok = isinstance(encoding, str) and "".encode(encoding) == b""  # base64: LookupError
    except LookupError:
        ok = False
    if not ok:
        raise ConfigError(
            f"config key '{key}' is {encoding!r}; give a text encoding such as utf-8, latin-1 "
            "or cp1252"
        )


def _undecodable(path: Path, encoding: str) -> str:
    """Where `path` first fails to decode: 'byte 0xe9 at offset 13 (line 3)'."""
    offset = 0
    with path.open("rb") as f:
        for number, line in enumerate(f, start=1):
            try:
                line.decode(encoding)
            except UnicodeDecodeError as err:
                return (
                    f"byte 0x{line[err.start]:02x} at offset {offset + err.start} (line {number})"
                )
            offset += len(line)
    return "a byte sequence"  # only across lines, in a multi-byte encoding such as utf-16


def _duplicates(names: list[str]) -> list[str]:
    return sorted({name for name in names if names.count(name) > 1})


def read_table(
    path: str | Path,
    fmt: str,
    text_columns: Any = (),
    key: str = "data.source.path",
    encoding: str | None = "utf-8",  # None: a Parquet file, which records its own
) -> pd.DataFrame:
    """Read a CSV or Parquet file; CSV `text_columns` are read as text, so categories stay as
    written. A missing, empty, undecodable or unreadable file, and one with a repeated column
    name, is a DataError naming the file and `key`."""
    import pandas as pd

    path = Path(path)
    if path.is_dir():
        raise DataError(f"data file {path} is a directory, not a file (config key '{key}')")
    if not path.is_file():
        raise DataError(f"data file {path} does not exist (config key '{key}')")
    try:
        if fmt == "parquet":
            frame = pd.read_parquet(path)
            header = list(frame.columns)
        else:
            # pandas renames a repeated name (a, a.1): the header as written shows repeats.
            names = pd.read_csv(path, header=None, nrows=1, dtype=str, encoding=encoding)
            header = [name for name in names.iloc[0] if pd.notna(name)]
            dtype = {c: "str" for c in text_columns}
            frame = pd.read_csv(path, dtype=dtype, encoding=encoding)
    except pd.errors.EmptyDataError:
        raise DataError(f"data file {path} is empty (config key '{key}')") from None
    except UnicodeDecodeError:
        advice = "save it as UTF-8"
        if key.startswith("data.source."):
            advice = "name its encoding, e.g. data.source.encoding=latin-1 (or cp1252)"
        where = _undecodable(path, str(encoding))  # csv only: a Parquet file decodes itself
        raise DataError(
            f"data file {path} is not {encoding} text: {where} cannot be decoded; {advice}"
        ) from None
    except (ValueError, OSError, pd.errors.ParserError) as err:
        first = (str(err).splitlines() or [type(err).__name__])[0]
        raise DataError(f"data file {path} is not a readable {fmt} file: {first}") from None
    repeated = _duplicates([str(name) for name in header])
    if repeated:
        raise DataError(
            f"data file {path} has more than one column named {repeated[0]!r}; "
            "column names must be unique (rename them in the file)"
        )
    if frame.empty:
        raise DataError(f"data file {path} has a header but no rows (config key '{key}')")
    frame.columns = [str(c) for c in frame.columns]
    return frame
