"""Table columns to float32 features: one-hot categories and median imputation.

Both are fitted on the train rows only, so validation and test rows never leak into the
features. The fitted encoding is plain JSON (meta.json, and the checkpoint's hparams), which
`predict` replays on new files. A category the train rows never showed, and a missing value in
a categorical column, encode as all zeros.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mlplab.errors import DataError

log = logging.getLogger(__name__)

MISSING_POLICIES = ("error", "drop", "median")
FILL_ADVICE = "set data.source.missing=drop or median, or fill them in the file"
TEXT_ADVICE = (
    "list it in data.source.categorical to one-hot encode it, "
    "or in data.source.drop to leave it out"
)


def numeric_values(
    frame: pd.DataFrame, column: str, source: str, advice: str = TEXT_ADVICE
) -> pd.Series:
    """A numeric column as float64 with inf turned into NaN; a text column is a DataError."""
    series = frame[column]
    if not pd.api.types.is_numeric_dtype(series):
        text = series.notna() & pd.to_numeric(series, errors="coerce").isna()
        where = ""
        if text.any():  # else only gaps: pandas reads an all-empty column as text
            row = int(np.flatnonzero(text.to_numpy())[0])
            where = f" ({series.iloc[row]!r} in data row {row}, from 0)"
        raise DataError(f"column {column!r} of {source} is not numeric{where}; {advice}")
    values = series.astype(np.float64)
    return values.where(np.isfinite(values))


def first_missing(mask: pd.Series) -> str:
    """'N missing or infinite values (first in data row R, from 0)' for an error message."""
    rows = np.flatnonzero(mask.to_numpy())
    return f"{len(rows)} missing or infinite values (first in data row {rows[0]}, from 0)"


def as_strings(series: pd.Series) -> pd.Series:
    """Category values as strings (missing stays missing), so 7 and '7' are one category."""
    return series.astype("string").astype(object).where(series.notna())


@dataclass
class TableEncoding:
    """How input columns become model features, in order: numeric columns as they are (with
    medians filling gaps), categorical columns as one 0/1 column per train-split category."""

    features: list[str]
    categories: dict[str, list[str]] = field(default_factory=dict)
    medians: dict[str, float] = field(default_factory=dict)
    missing: str = "error"

    @classmethod
    def fit(
        cls,
        frame: pd.DataFrame,
        train_rows: np.ndarray,
        features: list[str],
        categorical: list[str],
        missing: str,
        source: str,
    ) -> TableEncoding:
        train = frame.iloc[np.sort(train_rows)]
        categories, medians = {}, {}
        for column in features:
            if column in categorical:
                categories[column] = sorted(set(as_strings(train[column]).dropna()))
            elif missing == "median":
                median = numeric_values(train, column, source).median()
                if np.isnan(median):
                    raise DataError(
                        f"column {column!r} of {source} has no values in the train split to take "
                        "a median of (data.source.missing=median); drop the column"
                    )
                medians[column] = float(median)
        return cls(list(features), categories, medians, missing)

    def feature_names(self) -> list[str]:
        names = []
        for column in self.features:
            if column in self.categories:
                names += [f"{column}={value}" for value in self.categories[column]]
            else:
                names.append(column)
        return names

    def transform(self, frame: pd.DataFrame, source: str) -> np.ndarray:
        """float32 [rows, features] for any table holding the feature columns."""
        absent = [c for c in self.features if c not in frame.columns]
        if absent:
            raise DataError(
                f"{source} lacks the feature column(s) {', '.join(map(repr, absent[:10]))}"
                f"{' ...' if len(absent) > 10 else ''}; the model needs columns "
                f"{', '.join(self.features[:10])}{' ...' if len(self.features) > 10 else ''}"
            )
        blocks = [
            self._one_hot(frame, c, source)
            if c in self.categories
            else self._numeric(frame, c, source)
            for c in self.features
        ]
        return np.ascontiguousarray(np.column_stack(blocks), dtype=np.float32)

    def _numeric(self, frame: pd.DataFrame, column: str, source: str) -> np.ndarray:
        values = numeric_values(frame, column, source, "the model was trained on numbers")
        if values.isna().any():
            if column not in self.medians:
                raise DataError(
                    f"column {column!r} of {source} has {first_missing(values.isna())}; "
                    f"the model was trained with data.source.missing={self.missing}, which does "
                    "not fill them; fill them in the file"
                )
            values = values.fillna(self.medians[column])
        return values.to_numpy()[:, None]

    def _one_hot(self, frame: pd.DataFrame, column: str, source: str) -> np.ndarray:
        strings = as_strings(frame[column])
        codes = pd.Index(self.categories[column], dtype=object).get_indexer(strings)
        unseen = strings[(codes < 0) & strings.notna().to_numpy()]
        if len(unseen):
            log.warning(
                "column %r of %s: %d rows hold categories the train split never showed "
                "(e.g. %r); they encode as all zeros",
                column,
                source,
                len(unseen),
                unseen.iloc[0],
            )
        block = np.zeros((len(frame), len(self.categories[column])))
        known = np.flatnonzero(codes >= 0)
        block[known, codes[known]] = 1.0
        return block

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TableEncoding:
        return cls(
            features=list(data["features"]),
            categories={k: list(v) for k, v in data["categories"].items()},
            medians={k: float(v) for k, v in data["medians"].items()},
            missing=data["missing"],
        )
