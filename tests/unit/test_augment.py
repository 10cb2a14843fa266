"""Augmentation: noise in feature-scale units, mixup as convex blends of rows and targets."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mlplab.data.augment import Augmenter
from mlplab.errors import ConfigError


def _augmenter(noise=0.0, alpha=0.0, task="multiclass", scale=(1.0, 10.0), seed=0):
    return Augmenter(noise, alpha, task, 3, np.array(scale, dtype=np.float32), seed)


def test_noise_std_is_measured_in_each_features_scale():
    x = torch.zeros(20000, 2)
    noisy, y = _augmenter(noise=0.1)(x, torch.zeros(20000, dtype=torch.long))
    assert noisy.std(dim=0).tolist() == pytest.approx([0.1, 1.0], rel=0.03)
    assert torch.equal(y, torch.zeros(20000, dtype=torch.long))


def test_mixup_blends_rows_and_one_hot_targets_with_the_same_weights_and_partners():
    y = torch.tensor([0, 1, 2, 0, 1, 2, 2, 1])
    x = torch.nn.functional.one_hot(y, 3).float()  # features equal to the targets
    mixed_x, mixed_y = _augmenter(alpha=0.4)(x, y)
    assert mixed_y.shape == (8, 3)
    assert torch.allclose(mixed_x, mixed_y)
    assert torch.allclose(mixed_y.sum(dim=1), torch.ones(8))
    assert mixed_y.min() >= 0 and not torch.equal(mixed_y, x)


def test_same_seed_same_augmentation_and_another_seed_differs():
    x, y = torch.randn(64, 5), torch.randint(0, 3, (64,))
    a = _augmenter(noise=0.3, alpha=0.2, scale=(1.0,) * 5, seed=1)(x, y)
    b = _augmenter(noise=0.3, alpha=0.2, scale=(1.0,) * 5, seed=1)(x, y)
    c = _augmenter(noise=0.3, alpha=0.2, scale=(1.0,) * 5, seed=2)(x, y)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(a[0], c[0])


def test_regression_targets_mix_as_values():
    x, y = torch.randn(8, 2), torch.arange(8, dtype=torch.float32)
    _, mixed = _augmenter(alpha=1.0, task="regression", scale=(1.0, 1.0))(x, y)
    assert mixed.shape == (8,) and mixed.min() >= 0 and mixed.max() <= 7


def test_token_ids_cannot_be_augmented():
    with pytest.raises(ConfigError, match="data.augment"):
        _augmenter(noise=0.1)(torch.zeros(4, 3, dtype=torch.long), torch.zeros(4))
