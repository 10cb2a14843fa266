"""Batches as index slices of arrays: one gather per batch, no per-sample __getitem__.

`ShardedBatchSampler` yields each rank's share of every global batch, so `data.batch_size` is
the global batch for any number of devices and ranks read disjoint rows.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

# Prepared arrays up to this size are read into memory once, as tensors; bigger ones stay
# memory-mapped and each batch reads its rows from disk.
IN_MEMORY_BYTES = 1 << 30

Arrays = np.ndarray | torch.Tensor


def as_tensors(X: np.ndarray, y: np.ndarray) -> tuple[Arrays, Arrays]:
    """X and y as tensors in memory when they fit in IN_MEMORY_BYTES, else unchanged."""
    if X.nbytes + y.nbytes > IN_MEMORY_BYTES:
        return X, y
    return torch.from_numpy(np.array(X)), torch.from_numpy(np.array(y))


class ArrayBatches(Dataset):
    """A dataset indexed by whole batches: `ds[rows]` gathers rows of X and y at once.

    X and y are arrays (memory-mapped ones too) or in-memory tensors (`as_tensors`). With
    `single_batch` (set by ShardedLoader when an epoch is one batch), the batch is gathered
    once and the same tensors are handed back while the rows asked for stay the same: a
    full-batch epoch is always the same sorted rows, shuffled or not.
    """

    def __init__(self, X: Arrays, y: Arrays) -> None:
        self.X, self.y = X, y
        self.single_batch = False
        self._kept: tuple[np.ndarray, tuple[torch.Tensor, torch.Tensor]] | None = None

    def __len__(self) -> int:
        return len(self.X)

    def __getitem__(self, rows: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        if self._kept is not None and np.array_equal(self._kept[0], rows):
            return self._kept[1]
        batch = self._gather(rows)
        if self.single_batch:  # nothing downstream changes a batch in place
            self._kept = (np.array(rows), batch)
        return batch

    def _gather(self, rows: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        if isinstance(self.X, torch.Tensor) and isinstance(self.y, torch.Tensor):
            index = torch.from_numpy(np.asarray(rows, dtype=np.int64))
            return self.X[index], self.y[index]
        return torch.from_numpy(np.asarray(self.X[rows])), torch.from_numpy(
            np.asarray(self.y[rows])
        )


class ShardedBatchSampler(Sampler[np.ndarray]):
    """Yields sorted row-index arrays: this rank's slice of each global batch.

    With `shuffle`, batch order is a permutation seeded by (seed, epoch), so it is the same on
    every rank and after a restart. A final training batch too small to give every rank two
    rows (BatchNorm needs two) is dropped. `state_dict` records how many batches of which epoch
    were handed out, so a run resumed mid-epoch skips exactly those.
    """

    def __init__(
        self,
        rows: np.ndarray,
        batch_size: int,
        *,
        shuffle: bool,
        seed: int,
        rank: int,
        world_size: int,
    ) -> None:
        self.rows = np.asarray(rows, dtype=np.int64)
        self.batch_size, self.shuffle, self.seed = batch_size, shuffle, seed
        self.rank, self.world_size = rank, world_size
        self.epoch = 0
        self.yielded = 0  # batches of `epoch` handed out so far
        self._skip: tuple[int, int] | None = None  # (epoch, batches) to skip once, on resume

    def state_dict(self) -> dict[str, int]:
        return {"epoch": self.epoch, "yielded": self.yielded}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self._skip = (state["epoch"], state["yielded"])

    def set_epoch(self, epoch: int) -> None:
        """Called by Lightning at the start of every epoch."""
        self.epoch = epoch

    def _batch_bounds(self) -> list[tuple[int, int]]:
        n = len(self.rows)
        bounds = [(s, min(s + self.batch_size, n)) for s in range(0, n, self.batch_size)]
        if self.shuffle and bounds and bounds[-1][1] - bounds[-1][0] < 2 * self.world_size:
            bounds = bounds[:-1]
        return bounds

    def __len__(self) -> int:
        return len(self._batch_bounds())

    def __iter__(self) -> Iterator[np.ndarray]:
        order = self.rows
        if self.shuffle:
            order = np.random.default_rng([self.seed, self.epoch]).permutation(self.rows)
        skip = 0
        if self._skip is not None and self._skip[0] == self.epoch:
            skip = self._skip[1]
        self._skip = None
        self.yielded = skip
        for start, stop in self._batch_bounds()[skip:]:
            self.yielded += 1
            yield np.sort(order[start:stop][self.rank :: self.world_size])


class ShardedLoader(DataLoader):
    """A DataLoader over whole index batches whose position Lightning saves in checkpoints.

    Lightning's fit loop stores `state_dict()` of a stateful train loader in every checkpoint
    and hands it back on resume; its own generator keeps iterator creation off the global RNG,
    so dropout draws the same numbers whether or not a run was resumed.
    """

    def __init__(self, dataset: ArrayBatches, sampler: ShardedBatchSampler, seed: int) -> None:
        generator = torch.Generator().manual_seed(seed)
        super().__init__(dataset, sampler=sampler, batch_size=None, generator=generator)
        self.sharded = sampler
        dataset.single_batch = len(sampler) == 1

    def state_dict(self) -> dict[str, int]:
        return self.sharded.state_dict()

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.sharded.load_state_dict(state)
