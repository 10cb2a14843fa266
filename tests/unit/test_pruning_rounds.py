"""Pruning in rounds: the sparsity schedules and the config rules of rounds, every, schedule."""

from __future__ import annotations

from itertools import pairwise

import pytest

from mlplab.errors import ConfigError
from mlplab.training.checks import validate
from mlplab.training.pruning import sparsity_targets
from tests.conftest import compose_cfg


def test_one_round_prunes_the_whole_amount_at_once_under_either_schedule():
    assert sparsity_targets(0.5, 1, "cubic") == sparsity_targets(0.5, 1, "linear") == [0.5]


def test_cubic_schedule_prunes_most_early_and_linear_in_equal_steps():
    cubic, linear = sparsity_targets(0.8, 4, "cubic"), sparsity_targets(0.8, 4, "linear")
    assert linear == pytest.approx([0.2, 0.4, 0.6, 0.8])
    # Zhu & Gupta 2017: s_r = amount * (1 - (1 - r/R)^3), steps shrinking towards the amount.
    assert cubic == pytest.approx([0.8 * (1 - (1 - r / 4) ** 3) for r in (1, 2, 3, 4)])
    steps = [b - a for a, b in pairwise([0.0, *cubic])]
    assert steps == sorted(steps, reverse=True) and cubic[-1] == 0.8


def test_the_presets_prune_once_by_default():
    for preset in ("pruning", "pruning_structured"):
        assert compose_cfg(f"callbacks={preset}").callbacks.pruning.rounds == 1


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("callbacks.pruning.rounds=3", "rounds' is 3; its last round would start epoch 5"),
        ("callbacks.pruning.rounds=0", "'callbacks.pruning.rounds' is 0"),
        ("callbacks.pruning.rounds=1.5", "'callbacks.pruning.rounds' is 1.5"),
        ("callbacks.pruning.every=0", "'callbacks.pruning.every' is 0"),
        ("callbacks.pruning.schedule=exp", "allowed values: cubic, linear"),
    ],
)
def test_bad_rounds_every_or_schedule_name_the_key(override, message):
    base = ("callbacks=pruning", "callbacks.pruning.at_epoch=1", "trainer.max_epochs=5")
    validate(compose_cfg(*base, "callbacks.pruning.rounds=3", "callbacks.pruning.every=1"))
    with pytest.raises(ConfigError, match=message):
        validate(compose_cfg(*base, override))
