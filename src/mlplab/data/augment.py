"""Tabular augmentation for training batches only: Gaussian feature noise and mixup.

Noise is drawn in units of each feature's train-split scale, so one `noise_std` means the same
for every feature. Mixup (Zhang et al., 2018) blends pairs of rows and their targets with a
Beta(alpha, alpha) weight; classification targets become soft class probabilities, which
cross-entropy and BCE accept as they are.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from mlplab.errors import ConfigError


class Augmenter:
    """Seeded, so a run with one seed sees the same noise and the same mixing partners."""

    def __init__(
        self,
        noise_std: float,
        mixup_alpha: float,
        task: str,
        n_classes: int,
        feature_scale: np.ndarray,
        seed: int,
    ) -> None:
        self.noise_std, self.mixup_alpha = noise_std, mixup_alpha
        self.task, self.n_classes = task, n_classes
        self.feature_scale = torch.as_tensor(feature_scale, dtype=torch.float32)
        self.generator = torch.Generator().manual_seed(seed)
        self.rng = np.random.default_rng(seed)

    def __call__(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if not x.is_floating_point():
            raise ConfigError(
                "config keys data.augment.* need numeric features; this dataset has token ids"
            )
        if self.noise_std > 0:
            noise = torch.randn(x.shape, generator=self.generator) * self.feature_scale
            x = x + self.noise_std * noise.to(x.device)
        if self.mixup_alpha > 0:
            x, y = self.mixup(x, y)
        return x, y

    def mixup(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        lam = float(self.rng.beta(self.mixup_alpha, self.mixup_alpha))
        partner = torch.randperm(len(x), generator=self.generator).to(x.device)
        targets = F.one_hot(y, self.n_classes).float() if self.task == "multiclass" else y.float()
        return lam * x + (1 - lam) * x[partner], lam * targets + (1 - lam) * targets[partner]
