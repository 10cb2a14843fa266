"""Which sweep jobs train together (training/batched.py `group_key`): equal keys share one
stacked network; None trains alone."""

from __future__ import annotations

import pytest

from mlplab.training.batched import group_key
from tests.conftest import compose_cfg


def key(*overrides: str) -> str | None:
    return group_key(compose_cfg(*overrides))


@pytest.mark.parametrize(
    "a, b",
    [
        ("seed=1", "seed=2"),
        ("model.init.scheme=zeros", "model.init.scheme=he"),
        ("model.init.scale=1", "model.init.scale=10"),
        ("model.dropout=0.1", "model.dropout=0.5"),
        ("optimizer.lr=0.1", "optimizer.lr=0.001"),
        ("optimizer=adamw", "optimizer=sgd"),
        ("scheduler=cosine", "scheduler=plateau"),
        ("regularization.l2=0", "regularization.l2=0.01"),
        ("objective.label_smoothing=0", "objective.label_smoothing=0.1"),
        ("data.augment.noise_std=0", "data.augment.noise_std=0.1"),
        ("callbacks.early_stopping.patience=3", "callbacks.early_stopping.patience=10"),
    ],
)
def test_values_that_keep_tensor_shapes_share_a_group(a, b):
    assert key(a) is not None and key(a) == key(b)


@pytest.mark.parametrize(
    "a, b",
    [
        ("model.hidden_sizes=[16]", "model.hidden_sizes=[8]"),
        ("model.dropout=0", "model.dropout=0.5"),  # a dropout layer or none
        ("model.norm=batchnorm", "model.norm=none"),
        ("data.batch_size=64", "data.batch_size=32"),
        ("trainer.max_epochs=3", "trainer.max_epochs=4"),
        ("data=digits", "data=wine"),
    ],
)
def test_values_that_change_shapes_or_the_schedule_split_groups(a, b):
    assert key(a) != key(b)


@pytest.mark.parametrize(
    "override",
    [
        "trainer.devices=2",
        "trainer.precision=bf16-mixed",
        "resume=true",
        "lr_find.apply=true",
        "model.activation=prelu",
        "model.norm=layernorm",
        "model.activation=selu",
        "callbacks=swa",
        "trainer.val_check_interval=10",
        "runtime.compile=true",
    ],
)
def test_what_the_stacked_network_cannot_hold_trains_alone(override):
    assert key(override) is None
