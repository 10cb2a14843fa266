"""A full-batch split is gathered once: every epoch hands back the same tensors."""

from __future__ import annotations

import numpy as np
import torch

from mlplab.data.batches import ArrayBatches, ShardedBatchSampler, ShardedLoader, as_tensors


def _loader(rows: np.ndarray, batch_size: int) -> ShardedLoader:
    X, y = np.arange(60, dtype=np.float32).reshape(30, 2), np.arange(30)
    sampler = ShardedBatchSampler(rows, batch_size, shuffle=True, seed=3, rank=0, world_size=1)
    return ShardedLoader(ArrayBatches(*as_tensors(X, y)), sampler, seed=3)


def _epochs(loader: ShardedLoader, n: int) -> list[list[tuple[torch.Tensor, torch.Tensor]]]:
    out = []
    for epoch in range(n):
        loader.sharded.set_epoch(epoch)
        out.append(list(loader))
    return out


def test_a_shuffled_full_batch_is_the_same_tensor_objects_every_epoch():
    rows = np.array([3, 17, 5, 29, 0, 11])
    first, second = _epochs(_loader(rows, batch_size=64), 2)
    assert len(first) == len(second) == 1
    assert first[0][0] is second[0][0] and first[0][1] is second[0][1]
    assert first[0][1].tolist() == sorted(rows.tolist())  # the split's rows, sorted
    assert torch.equal(first[0][0][:, 0], first[0][1].to(torch.float32) * 2)


def test_several_batches_are_gathered_afresh_each_epoch():
    rows = np.arange(20)
    first, second = _epochs(_loader(rows, batch_size=8), 2)
    assert all(a[0] is not b[0] for a, b in zip(first, second, strict=True))
    assert sorted(np.concatenate([b[1].numpy() for b in second]).tolist()) == list(range(20))


def test_arrays_past_the_memory_limit_stay_memory_mapped(tmp_path, monkeypatch):
    from mlplab.data import batches

    X = np.lib.format.open_memmap(tmp_path / "X.npy", mode="w+", dtype=np.float32, shape=(8, 2))
    y = np.zeros(8, dtype=np.int64)
    assert isinstance(as_tensors(X, y)[0], torch.Tensor)
    monkeypatch.setattr(batches, "IN_MEMORY_BYTES", X.nbytes)
    kept, _ = as_tensors(X, y)
    assert kept is X
    assert torch.equal(ArrayBatches(kept, y)[np.array([1, 2])][0], torch.zeros(2, 2))
