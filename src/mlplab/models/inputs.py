"""What the first hidden block sees: dense features as they are, or token ids embedded.

`embedding` is the character-level model of Karpathy's makemore (part 3): int64 token windows
[n, context] look up an [vocab, dim] table, and the [n, context, dim] result is flattened to
[n, context * dim].
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from torch import nn

INPUT_KINDS = ("dense", "embedding")


def input_layers(
    kind: str, vocab_size: int | None = None, embedding_dim: int | None = None
) -> OrderedDict[str, nn.Module]:
    """The modules before `hidden_0`: none for dense features, Embedding + Flatten for tokens."""
    from torch import nn

    if kind == "dense":
        return OrderedDict()
    # The table keeps nn.Embedding's N(0, 1) init, as makemore's C = randn(vocab, dim) does:
    # `model.init` describes Linear weights, whose fans an embedding table does not have.
    assert vocab_size is not None and embedding_dim is not None, "token inputs need both sizes"
    return OrderedDict(embedding=nn.Embedding(vocab_size, embedding_dim), flatten=nn.Flatten())


def input_width(
    kind: str, in_features: int, context_length: int | None, embedding_dim: int | None
) -> int:
    """The width of what the first hidden block receives."""
    if kind == "dense":
        return in_features
    assert context_length is not None and embedding_dim is not None, "token inputs need both sizes"
    return context_length * embedding_dim
