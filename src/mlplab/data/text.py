"""The character-level names task of Karpathy's makemore (part 3): predict a name's next
letter from the last few.

Names are the US census first-name lists that the `names` package ships as package data (no
download). Token 0 is the boundary mark `.`, tokens 1-26 are `a`-`z`. Each name becomes one
row per letter plus one for its end: the previous `context_length` tokens (padded with `.` at
the start) -> the next token, so `emma` gives `...`->e, `..e`->m, `.em`->m, `emm`->a, `mma`->`.`.
"""

from __future__ import annotations

import string
from importlib import resources

import numpy as np

from mlplab.data.dataset import Dataset

BOUNDARY = "."
TOKENS = [BOUNDARY, *string.ascii_lowercase]
TOKEN_INDEX = {token: i for i, token in enumerate(TOKENS)}
NAME_FILES = ("dist.male.first", "dist.female.first")


def census_first_names() -> list[str]:
    """Every first name in the package's census lists: lowercased, letters a-z only,
    deduplicated and sorted, so the corpus does not depend on file order."""
    package = resources.files("names")
    found: set[str] = set()
    for filename in NAME_FILES:
        for line in package.joinpath(filename).read_text(encoding="ascii").splitlines():
            word = line.split()[0].lower() if line.strip() else ""
            if word and set(word) <= set(string.ascii_lowercase):
                found.add(word)
    return sorted(found)


def windows(words: list[str], context_length: int) -> tuple[np.ndarray, np.ndarray]:
    """Token windows [n, context_length] and next tokens [n] (int64) of every word in turn."""
    X, y = [], []
    for word in words:
        context = [0] * context_length
        for token in (TOKEN_INDEX[ch] for ch in word + BOUNDARY):
            X.append(context)
            y.append(token)
            context = [*context[1:], token]
    return np.array(X, dtype=np.int64).reshape(-1, context_length), np.array(y, dtype=np.int64)


def names(*, context_length: int) -> Dataset:
    """About 5 100 census first names as (previous `context_length` tokens -> next token) rows,
    about 36 000 in all; a multiclass task over the 27 tokens."""
    if context_length < 1:
        raise ValueError(f"context_length must be >= 1, got {context_length}")
    X, y = windows(census_first_names(), context_length)
    return Dataset(
        X=X,
        y=y,
        meta={
            "task": "multiclass",
            "class_names": list(TOKENS),
            "feature_names": [f"t-{context_length - i}" for i in range(context_length)],
            "vocab_size": len(TOKENS),
            "context_length": context_length,
        },
    )
