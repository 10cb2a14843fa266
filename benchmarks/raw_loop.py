"""Child: the baseline, a hand-written PyTorch loop over the same memory-mapped arrays, with
the same network, split, input scaling, batch size, optimizer and gradient clipping as the
default `train()` run, and no framework: gather a sorted index batch, forward, backward, step.
"""

from __future__ import annotations

import json
import time
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from benchmarks.common import bench_config, child_args
from mlplab.config.rules import plain
from mlplab.data.scaling import fit_scaling
from mlplab.data.split import split_rows
from mlplab.data.store import prepared_dir, read_prepared
from mlplab.models.mlp import build_mlp, spec_from_config


def main() -> None:
    args = child_args()
    cfg = bench_config(args.rows, args.features, args.batch_size, args.data_dir)
    torch.manual_seed(cfg.seed)
    torch.use_deterministic_algorithms(cfg.trainer.deterministic)

    data = read_prepared(
        prepared_dir(
            cfg.paths.data_dir, cfg.data.name, plain(cfg.data.source), plain(cfg.data.split)
        )
    )
    X, Y = data.X, data.y
    train_rows = split_rows(Y, data.meta["task"], plain(cfg.data.split)).train
    shift, scale = (torch.from_numpy(a) for a in fit_scaling(cfg.data.scaling, X, train_rows))
    n_classes = len(data.meta["class_names"])
    net = build_mlp(spec_from_config(plain(cfg.model), X.shape[1], n_classes))
    decay = [p for p in net.parameters() if p.ndim >= 2]
    no_decay = [p for p in net.parameters() if p.ndim < 2]
    groups: list[dict[str, Any]] = [{"params": decay}, {"params": no_decay, "weight_decay": 0.0}]
    optimizer = torch.optim.AdamW(
        groups,
        lr=cfg.optimizer.lr,
        weight_decay=cfg.optimizer.weight_decay,
    )
    clip = cfg.trainer.gradient_clip_val

    net.train()
    order = np.random.default_rng([cfg.seed, 0]).permutation(train_rows)
    samples, total_loss = 0, torch.zeros(())
    start = time.perf_counter()
    for first in range(0, len(order), args.batch_size):
        rows = np.sort(order[first : first + args.batch_size])
        if len(rows) < 2:  # BatchNorm needs two rows, as our sampler drops
            break
        x = (torch.from_numpy(X[rows]) - shift) / scale
        y = torch.from_numpy(Y[rows])
        loss = F.cross_entropy(net(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if clip:
            torch.nn.utils.clip_grad_norm_(net.parameters(), clip)
        optimizer.step()
        total_loss += loss.detach() * len(rows)
        samples += len(rows)
    seconds = time.perf_counter() - start
    with open(args.out, "w") as f:
        json.dump({"samples": samples, "seconds": seconds, "loss": float(total_loss) / samples}, f)


if __name__ == "__main__":
    main()
