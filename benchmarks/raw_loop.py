"""The baseline: a hand-written PyTorch loop doing the work `train()` does, with nothing else.

The data sits in memory as tensors, scaled once; each epoch trains on shuffled row batches
(forward, cross-entropy, backward, gradient clipping, optimizer step) and, for the full epoch,
runs a no-grad validation pass. Network, optimizer (class and settings, decay groups), clipping,
determinism and seed come from the same composed config `train()` gets.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from hydra.utils import instantiate
from omegaconf import DictConfig

from mlplab.config.rules import plain
from mlplab.data.scaling import fit_scaling
from mlplab.data.split import split_rows
from mlplab.data.store import prepared_dir, read_prepared
from mlplab.models.mlp import build_mlp, spec_from_config


@dataclass(frozen=True)
class Tensors:
    """One dataset's train and validation rows, scaled on the train split, in memory."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    n_classes: int


def load_tensors(cfg: DictConfig) -> Tensors:
    """The prepared dataset of `cfg` (prepared by an earlier `train()` or prepare), as tensors."""
    data = cfg.data
    source, split = plain(data.source), plain(data.split)
    prepared = read_prepared(prepared_dir(cfg.paths.data_dir, data.name, source, split))
    if prepared.meta["task"] != "multiclass":
        raise ValueError(f"the raw loop trains multiclass data; {data.name} is not")
    rows = split_rows(prepared.y, prepared.meta["task"], split)
    shift, scale = fit_scaling(data.scaling, prepared.X, rows.train)

    def scaled(r: Any) -> torch.Tensor:
        return torch.from_numpy((prepared.X[r] - shift) / scale).float().contiguous()

    return Tensors(
        x_train=scaled(rows.train),
        y_train=torch.from_numpy(prepared.y[rows.train]).long(),
        x_val=scaled(rows.val),
        y_val=torch.from_numpy(prepared.y[rows.val]).long(),
        n_classes=len(prepared.meta["class_names"]),
    )


def _batches(n: int, batch: int, limit: int | None, drop_tiny: bool) -> list[tuple[int, int]]:
    bounds = [(s, min(s + batch, n)) for s in range(0, n, batch)]
    if drop_tiny and bounds and bounds[-1][1] - bounds[-1][0] < 2:  # BatchNorm needs two rows
        bounds = bounds[:-1]
    return bounds[:limit] if limit is not None else bounds


def raw_epochs(cfg: DictConfig, data: Tensors, threads: int) -> dict[str, list[float]]:
    """Train `trainer.max_epochs` epochs; per epoch: samples, train-phase and full seconds.

    `trainer.limit_train_batches` / `limit_val_batches` (null or a batch count) cap the epoch
    as they cap `train()`'s.
    """
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(bool(cfg.trainer.deterministic))
    torch.manual_seed(cfg.seed)
    net = build_mlp(spec_from_config(plain(cfg.model), data.x_train.shape[1], data.n_classes))
    decay = [p for p in net.parameters() if p.ndim >= 2]  # as MLPModule: no decay on 1-D
    no_decay = [p for p in net.parameters() if p.ndim < 2]
    groups = [{"params": decay}, {"params": no_decay, "weight_decay": 0.0}]
    optimizer = instantiate(plain(cfg.optimizer))(groups)
    clip, by_norm = cfg.trainer.gradient_clip_val, cfg.trainer.gradient_clip_algorithm == "norm"
    smoothing = cfg.objective.label_smoothing
    batch = cfg.data.batch_size
    train_bounds = _batches(len(data.y_train), batch, cfg.trainer.limit_train_batches, True)
    val_bounds = _batches(len(data.y_val), batch, cfg.trainer.limit_val_batches, False)
    generator = torch.Generator().manual_seed(cfg.seed)
    out: dict[str, list[float]] = {
        k: [] for k in ("samples", "train_seconds", "full_seconds", "val_loss", "val_acc")
    }
    for _ in range(cfg.trainer.max_epochs):
        start = time.perf_counter()
        net.train()
        order = torch.randperm(len(data.y_train), generator=generator)
        samples = 0
        for first, last in train_bounds:
            rows = order[first:last]
            x, y = data.x_train[rows], data.y_train[rows]
            loss = F.cross_entropy(net(x), y, label_smoothing=smoothing)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if clip:
                if by_norm:
                    torch.nn.utils.clip_grad_norm_(net.parameters(), clip)
                else:
                    torch.nn.utils.clip_grad_value_(net.parameters(), clip)
            optimizer.step()
            samples += last - first
        trained = time.perf_counter()
        net.eval()
        with torch.no_grad():
            val_loss, correct = torch.zeros(()), torch.zeros((), dtype=torch.long)
            for first, last in val_bounds:
                logits = net(data.x_val[first:last])
                y = data.y_val[first:last]
                val_loss += F.cross_entropy(logits, y, reduction="sum")
                correct += (logits.argmax(1) == y).sum()
        out["samples"].append(samples)
        out["train_seconds"].append(trained - start)
        out["full_seconds"].append(time.perf_counter() - start)
        seen = max(1, sum(last - first for first, last in val_bounds))
        out["val_loss"].append(float(val_loss) / seen)  # what a loop prints
        out["val_acc"].append(int(correct) / seen)
    return out
