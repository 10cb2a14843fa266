"""Optimisation config: presets compose and validate; bad values fail before any work."""

from __future__ import annotations

import pytest

from mlplab.errors import ConfigError
from mlplab.training.checks import validate
from tests.conftest import compose_cfg, group_options

PRESETS = [
    *(f"optimizer={o}" for o in group_options("optimizer")),
    *(f"scheduler={o}" for o in group_options("scheduler")),
    *(f"callbacks={o}" for o in group_options("callbacks")),
]


@pytest.mark.parametrize("override", sorted(PRESETS))
def test_every_optimizer_scheduler_and_callbacks_preset_validates(override):
    validate(compose_cfg(override))


def test_default_regularisation_is_off_and_the_lr_finder_is_not_applied():
    cfg = validate(compose_cfg())
    assert cfg.regularization.l1 == 0 and cfg.regularization.l2 == 0
    assert cfg.lr_find.apply is False and cfg.lr_find.min_lr < cfg.lr_find.max_lr
    assert {"max_norm", "swa", "pruning"}.isdisjoint(cfg.callbacks)


def test_callback_presets_combine_as_a_list_and_keep_the_defaults():
    cfg = validate(compose_cfg("callbacks=[max_norm,swa]"))
    assert cfg.callbacks.max_norm.max_norm == 3.0
    assert cfg.callbacks.swa.swa_lrs > 0
    assert cfg.callbacks.model_checkpoint is not None and cfg.callbacks.early_stopping is None


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (["regularization.l1=-0.1"], "config key 'regularization.l1' is -0.1; it must be"),
        (["regularization.l2=-1"], "regularization.l2"),
        (["callbacks=max_norm", "callbacks.max_norm.max_norm=0"], "callbacks.max_norm.max_norm"),
        (["callbacks=max_norm", "callbacks.max_norm.max_norm=-3"], "a norm bound > 0"),
        (["scheduler.interval=batch"], "'scheduler.interval' is 'batch'; allowed values: epoch"),
        (["scheduler.scheduler.T_max=auto"], "only total_steps and max_lr may be auto"),
        (["lr_find.min_lr=0.1", "lr_find.max_lr=0.01"], "lr_find.max_lr"),
        (["lr_find.min_lr=0"], "lr_find.min_lr"),
        (["lr_find.num_training=5"], "lr_find.num_training"),
        (["lr_find.mode=cubic"], "allowed values: exponential, linear"),
        (["lr_find.early_stop_threshold=0.5"], "lr_find.early_stop_threshold"),
        (["lr_find.apply=true", "trainer.devices=2"], "trainer.devices"),
        # max_norm after swa brings the default early stopping back: a combination SWA refuses.
        (["callbacks=[swa,max_norm]"], "needs callbacks.early_stopping=null"),
        (["callbacks=swa", "callbacks.swa.swa_lrs=0"], "callbacks.swa.swa_lrs"),
        (["callbacks=swa", "callbacks.swa.swa_epoch_start=1.5"], "callbacks.swa.swa_epoch_start"),
        (["callbacks=pruning", "callbacks.pruning.amount=1.5"], "callbacks.pruning.amount"),
        (["callbacks=pruning", "callbacks.pruning.at_epoch=40"], "an epoch in 0..39"),
        (["callbacks=pruning", "model.hidden_sizes=[]"], "prunes hidden layers"),
        (["callbacks=pruning_structured", "callbacks.pruning.pruning_norm=null"], "pruning_norm"),
        (["callbacks=pruning_structured", "callbacks.pruning.pruning_dim=null"], "pruning_dim"),
    ],
)
def test_bad_optimisation_value_raises_one_line_config_error(overrides, expected):
    with pytest.raises(ConfigError) as info:
        validate(compose_cfg(*overrides))
    assert expected in str(info.value)
    assert "\n" not in str(info.value)
