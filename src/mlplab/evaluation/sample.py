"""Sample new names from a character-level checkpoint (model=char_mlp data=names), as
Karpathy's makemore does: start from a context of boundary tokens, draw the next character
from the model's softmax, shift it into the context, stop at the boundary token.

All names are drawn together (one forward pass per character position for the whole batch),
from one seeded torch.Generator: the same checkpoint, seed and count give the same names.
src/sample.py's config is checked by mlplab/config/sample.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from mlplab.atomic import write_text
from mlplab.data.text import BOUNDARY
from mlplab.errors import DataError

if TYPE_CHECKING:
    from mlplab.models.module import MLPModule


def sample(model: MLPModule, num_samples: int, seed: int, max_length: int) -> list[str]:
    """`num_samples` names from a token model; each ends at the boundary token or after
    `max_length` characters."""
    import torch

    meta = model.hparams["meta"]
    tokens = list(meta.get("class_names", []))
    if model.spec.input_kind != "embedding" or not tokens or tokens[0] != BOUNDARY:
        raise DataError(
            "the checkpoint is not a character-level model (train one with model=char_mlp "
            "data=names): sampling needs token-window input and the boundary token first"
        )
    assert model.spec.context_length is not None, "token input has a context length"
    generator = torch.Generator().manual_seed(seed)
    context = torch.zeros(num_samples, model.spec.context_length, dtype=torch.int64)
    drawn = torch.zeros(num_samples, max_length, dtype=torch.int64)
    ended = torch.zeros(num_samples, dtype=torch.bool)
    model.eval()  # BatchNorm's running statistics, no dropout
    with torch.no_grad():
        for position in range(max_length):
            probs = torch.softmax(model(context).float(), dim=1)
            nxt = torch.multinomial(probs, 1, generator=generator).squeeze(1)
            nxt[ended] = 0  # a finished name stays finished
            drawn[:, position] = nxt
            ended |= nxt == 0
            if bool(ended.all()):
                break
            context = torch.cat([context[:, 1:], nxt[:, None]], dim=1)
    names = []
    for row in drawn.tolist():
        letters = row[: row.index(0)] if 0 in row else row
        names.append("".join(tokens[i] for i in letters))
    return names


def sample_names(ckpt_path: str | Path, num_samples: int, seed: int, max_length: int) -> list[str]:
    """`num_samples` names sampled from the checkpoint at `ckpt_path` (see `sample`)."""
    from mlplab.evaluation.evaluate import load_checkpoint

    return sample(load_checkpoint(ckpt_path), num_samples, seed, max_length)


def write_names(names: list[str], output: str | Path) -> None:
    """One name a line, written to a temporary sibling and renamed."""
    write_text(Path(output), "".join(f"{name}\n" for name in names))
