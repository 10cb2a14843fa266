"""Batches are index slices; ranks read disjoint shares of the same global batches."""

from __future__ import annotations

import numpy as np
import torch

from mlplab.data.batches import ArrayBatches, ShardedBatchSampler


def _epoch(rows, batch_size, world, epoch=0, shuffle=True):
    samplers = [
        ShardedBatchSampler(rows, batch_size, shuffle=shuffle, seed=7, rank=r, world_size=world)
        for r in range(world)
    ]
    for s in samplers:
        s.set_epoch(epoch)
    return [list(s) for s in samplers]


def test_ranks_split_each_global_batch_disjointly():
    rows = np.arange(100, 200)
    single = _epoch(rows, 16, world=1)[0]
    ranks = _epoch(rows, 16, world=2)
    assert len(ranks[0]) == len(ranks[1]) == len(single)
    for whole, a, b in zip(single, *ranks, strict=True):
        assert not set(a) & set(b)
        assert sorted(np.concatenate([a, b])) == sorted(whole)


def test_global_batch_size_is_split_across_ranks():
    ranks = _epoch(np.arange(64), 16, world=2)
    assert {len(batch) for batch in ranks[0] + ranks[1]} == {8}


def test_epochs_reshuffle_and_repeat_for_the_same_epoch():
    rows = np.arange(50)
    first, again, second = (_epoch(rows, 10, 1, e)[0] for e in (0, 0, 1))
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert not all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))


def test_evaluation_keeps_every_row_in_order():
    rows = np.arange(10, 35)
    batches = _epoch(rows, 10, 1, shuffle=False)[0]
    assert np.array_equal(np.concatenate(batches), rows)


def test_training_drops_a_last_batch_too_small_for_batchnorm():
    batches = _epoch(np.arange(33), 16, world=1)[0]
    assert [len(b) for b in batches] == [16, 16]


def test_array_batches_gathers_rows_in_one_call():
    X = np.arange(20, dtype=np.float32).reshape(10, 2)
    y = np.arange(10)
    xb, yb = ArrayBatches(X, y)[np.array([1, 4])]
    assert torch.equal(xb, torch.tensor([[2.0, 3.0], [8.0, 9.0]]))
    assert torch.equal(yb, torch.tensor([1, 4]))
