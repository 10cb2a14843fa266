"""The config: params.yaml is the composed default, and bad values fail with a clear message."""

from __future__ import annotations

import pytest
import yaml

from mlplab.config.params import compose_config
from mlplab.errors import ConfigError
from mlplab.training.checks import validate
from tests.conftest import REPO, compose_cfg


def test_params_yaml_equals_composed_train_config():
    committed = yaml.safe_load((REPO / "params.yaml").read_text())
    assert committed == compose_config(REPO / "configs"), "run `make params` and commit it"


def test_default_config_validates_with_schema_types():
    cfg = validate(compose_cfg())
    assert cfg.data.name == "digits"
    assert cfg.data.split.train + cfg.data.split.val + cfg.data.split.test == pytest.approx(1)
    assert cfg.trainer.gradient_clip_val > 0 and cfg.trainer.gradient_clip_algorithm == "norm"
    assert "hydra" not in cfg


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("model.activation=relux", "allowed values: elu, gelu, identity"),
        ("model.dropout=1.5", "model.dropout"),
        ("model.norm=groupnorm", "model.norm"),
        ("model.hidden_sizes=[64,0]", "model.hidden_sizes[1]"),
        ("model.hidden_sizes=[64,abc]", "model.hidden_sizes"),
        ("data.split.train=0.9", "sum to 1.1"),
        ("data.split.val=-0.1", "data.split.val"),
        ("data.batch_size=0", "data.batch_size"),
        ("data.scaling=robust", "data.scaling"),
        ("+data.source.noise=0.1", "data.source.noise"),
        ("data.name=imagenet", "data.name"),
        ("optimizer.lr=0", "optimizer.lr"),
        ("trainer.max_epochs=0", "trainer.max_epochs"),
        ("trainer.gradient_clip_algorithm=l3", "trainer.gradient_clip_algorithm"),
        ("+model.hidden_size=3", "model.hidden_size"),
        ("seed=-1", "seed"),
        ("data.batch_size=1", "model.norm=batchnorm needs at least 2 per rank"),
    ],
)
def test_bad_value_raises_config_error_naming_the_key(override: str, expected: str):
    with pytest.raises(ConfigError) as info:
        validate(compose_cfg(override))
    assert expected in str(info.value)
    assert "\n" not in str(info.value)


def test_batchnorm_needs_two_rows_per_rank_and_other_norms_do_not():
    with pytest.raises(ConfigError, match="each of 2 rank"):
        validate(compose_cfg("data.batch_size=3", "trainer.devices=2"))
    validate(compose_cfg("data.batch_size=1", "model.norm=layernorm"))


def test_runs_started_in_the_same_millisecond_get_two_directories(tmp_path, monkeypatch):
    from datetime import datetime

    from mlplab import cli

    class FrozenClock(datetime):
        @classmethod
        def now(cls, tz=None):
            return cls(2026, 11, 25, 19, 40, 12, 345678)

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli, "datetime", FrozenClock)
    script = str(REPO / "src" / "train.py")
    argv = ["optimizer=sgd", "model.dropout=0.3"]
    first, second = (cli.checked_argv(argv, script, "../configs", "train", validate) for _ in "ab")
    name = "2026-11-25_19-40-12.345_model.dropout-0.3+optimizer-sgd"
    assert first[-1] == f"hydra.run.dir='logs/runs/{name}'"
    assert second[-1] == f"hydra.run.dir='logs/runs/{name}-2'"
    assert sorted(p.name for p in (tmp_path / "logs" / "runs").iterdir()) == [name, f"{name}-2"]


def test_trainer_arguments_are_set_without_plus_and_others_get_the_nearest_one(
    tmp_path, monkeypatch
):
    from mlplab import cli

    monkeypatch.chdir(tmp_path)
    script = str(REPO / "src" / "train.py")
    argv = cli.checked_argv(
        ["trainer.overfit_batches=3", "hydra.run.dir=x"],
        script,
        "../configs",
        "train",
        validate,
    )
    assert argv == ["+trainer.overfit_batches=3", "hydra.run.dir=x"]
    with pytest.raises(ConfigError, match="did you mean 'trainer.overfit_batches'"):
        cli.checked_argv(["trainer.overfit_batch=2"], script, "../configs", "train", validate)
    assert not (tmp_path / "logs").exists()


def test_a_run_directory_name_is_a_path_component_hydra_reads_unquoted():
    from hydra.core.override_parser.overrides_parser import OverridesParser

    from mlplab.cli import safe_name

    name = safe_name("data.source.path-data/my file.csv+model.hidden_sizes-[8,8]")
    assert name == "data.source.path-data-my_file.csv+model.hidden_sizes-8_8"
    path = f"logs/runs/2026-11-25_19-40-12.345_{name}/models/best.ckpt"
    (override,) = OverridesParser.create().parse_overrides([f"evaluate.checkpoint={path}"])
    assert override.value() == path
    assert len(safe_name("x" * 500)) == 80
