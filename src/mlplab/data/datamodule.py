"""The LightningDataModule: prepared arrays in, seeded split and sharded batches out."""

from __future__ import annotations

import logging
from typing import Any

import lightning as L
import numpy as np
from lightning.pytorch.utilities import rank_zero_only

from mlplab.data.augment import Augmenter
from mlplab.data.batches import ArrayBatches, Arrays, ShardedBatchSampler, ShardedLoader, as_tensors
from mlplab.data.scaling import fit_scaling
from mlplab.data.split import Split, split_rows
from mlplab.data.store import Prepared, prepare, prepared_dir, read_prepared

log = logging.getLogger(__name__)


class ArrayDataModule(L.LightningDataModule):
    def __init__(
        self,
        data_dir: str,
        name: str,
        source: dict[str, Any],
        split: dict[str, Any],
        scaling: str,
        batch_size: int,
        seed: int,
        target_scaling: str,
        augment: dict[str, float],
    ) -> None:
        super().__init__()
        self.data_dir, self.dataset, self.source = data_dir, name, source
        self.split_cfg, self.scaling, self.batch_size, self.seed = split, scaling, batch_size, seed
        self.target_scaling = target_scaling
        self.augment = augment
        self.augmenter: Augmenter | None = None
        self._augment_state: dict[str, Any] | None = None  # from a checkpoint, until built
        self.prepared: Prepared | None = None
        self._split: Split | None = None
        self._tensors: tuple[Arrays, Arrays] | None = None  # X, y read once for every loader

    def prepare_data(self) -> None:
        """Prepare the dataset if it is missing or was made from another source config."""
        prepare(self.data_dir, self.dataset, self.source, self.split_cfg, force=False)

    def setup(self, stage: str | None = None) -> None:
        if self.prepared is not None:
            return
        self.prepared = read_prepared(
            prepared_dir(self.data_dir, self.dataset, self.source, self.split_cfg)
        )
        self._split = split_rows(self.prepared.y, self.prepared.meta["task"], self.split_cfg)
        # The launcher's RANK/LOCAL_RANK: setup() runs before the Trainer connects the ranks.
        log.info(
            "rank %d: split %s train/val/test = %d/%d/%d",
            getattr(rank_zero_only, "rank", 0),
            self.split.digest(),
            *self.split.sizes(),
        )

    def on_after_batch_transfer(self, batch: Any, dataloader_idx: int) -> Any:
        """Augment training batches only; validation and test see the data as it is."""
        if self.trainer is None or not self.trainer.training or not any(self.augment.values()):
            return batch
        if self.augmenter is None:
            meta = self.meta
            self.augmenter = Augmenter(
                noise_std=self.augment["noise_std"],
                mixup_alpha=self.augment["mixup_alpha"],
                task=meta["task"],
                n_classes=len(meta.get("class_names", [])),
                feature_scale=self.scaling_stats()[1],
                # Ranks draw different noise; a run with one seed repeats exactly.
                seed=self.seed * 1000 + self.trainer.global_rank,
            )
            if self._augment_state is not None:
                self.augmenter.generator.set_state(self._augment_state["torch"])
                self.augmenter.rng.bit_generator.state = self._augment_state["numpy"]
        return self.augmenter(*batch)

    def state_dict(self) -> dict[str, Any]:
        """Saved in checkpoints: the augmentation generators, so a resumed run draws on."""
        if self.augmenter is None:
            return {}
        generator, rng = self.augmenter.generator, self.augmenter.rng
        return {"augment": {"torch": generator.get_state(), "numpy": rng.bit_generator.state}}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self._augment_state = state_dict.get("augment")

    @property
    def split(self) -> Split:
        assert self._split is not None, "call setup() first"
        return self._split

    @property
    def meta(self) -> dict[str, Any]:
        assert self.prepared is not None, "call setup() first"
        return self.prepared.meta

    def scaling_stats(self) -> tuple[np.ndarray, np.ndarray]:
        assert self.prepared is not None, "call setup() first"
        return fit_scaling(self.scaling, self.prepared.X, self.split.train)

    def target_scaling_stats(self) -> tuple[np.ndarray, np.ndarray]:
        """Regression targets are standardised on the train split like the features."""
        assert self.prepared is not None, "call setup() first"
        y = self.prepared.y
        return fit_scaling(self.target_scaling, y.reshape(len(y), -1), self.split.train)

    def _loader(self, rows: np.ndarray, shuffle: bool) -> ShardedLoader:
        assert self.prepared is not None
        rank, world = (
            (self.trainer.global_rank, self.trainer.world_size) if self.trainer else (0, 1)
        )
        sampler = ShardedBatchSampler(
            rows, self.batch_size, shuffle=shuffle, seed=self.seed, rank=rank, world_size=world
        )
        if self._tensors is None:
            self._tensors = as_tensors(self.prepared.X, self.prepared.y)
        return ShardedLoader(ArrayBatches(*self._tensors), sampler, self.seed)

    def train_dataloader(self) -> ShardedLoader:
        return self._loader(self.split.train, shuffle=True)

    def val_dataloader(self) -> ShardedLoader:
        return self._loader(self.split.val, shuffle=False)

    def test_dataloader(self) -> ShardedLoader:
        return self._loader(self.split.test, shuffle=False)
