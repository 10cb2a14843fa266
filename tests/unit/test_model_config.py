"""The `model` config node: every architecture key is checked, and a bad one names itself."""

from __future__ import annotations

import pytest

from mlplab.errors import ConfigError
from mlplab.training.checks import validate
from tests.conftest import compose_cfg

EMBEDDING = (
    "model.input.kind=embedding",
    "model.input.vocab_size=27",
    "model.input.context_length=3",
    "model.input.embedding_dim=10",
)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (
            ["model.norm_position=middle"],
            "'model.norm_position' is 'middle'; allowed values: after",
        ),
        (["model.norm=instancenorm"], "'model.norm' is 'instancenorm'; allowed values: batchnorm"),
        (["model.dropout=[0.1]"], "'model.dropout' has 1 probabilities for 2 hidden layers"),
        (["model.dropout=[0.1,0.2,0.3]"], "'model.dropout' has 3 probabilities"),
        (["model.dropout=-0.1"], "'model.dropout' is -0.1"),
        (["model.dropout=1.0"], "'model.dropout' is 1.0"),
        (["model.dropout=[0.1,-0.2]"], "'model.dropout[1]' is -0.2"),
        (["model.dropout=lots"], "'model.dropout' is 'lots'"),
        (["model.dropout_type=gaussian"], "'model.dropout_type' is 'gaussian'; allowed values"),
        (["model.init.scheme=glorious"], "'model.init.scheme' is 'glorious'; allowed values"),
        (["model.init.mode=fan_sum"], "'model.init.mode' is 'fan_sum'; allowed values: fan_avg"),
        (
            ["model.init.scheme=orthogonal", "model.init.mode=fan_in"],
            "'model.init.mode' is 'fan_in'; it must be null for scheme 'orthogonal'",
        ),
        (["model.init.distribution=cauchy"], "'model.init.distribution'"),
        (["model.init.std=0"], "'model.init.std' is 0.0"),
        (["model.init.a=-1"], "'model.init.a' is -1.0"),
        (["model.init.scale=0"], "'model.init.scale' is 0.0"),
        (["model.input.kind=onehot"], "'model.input.kind' is 'onehot'; allowed values: dense"),
        ([*EMBEDDING, "model.input.vocab_size=0"], "'model.input.vocab_size' is 0"),
        ([*EMBEDDING, "model.input.embedding_dim=-2"], "'model.input.embedding_dim' is -2"),
        (["model.input.kind=embedding"], "'model.input.vocab_size' is None"),
        (["model.input.vocab_size=abc"], "model.input.vocab_size"),
        (
            ["+model.activation_args.negative_slope=0.1"],
            "'model.activation_args.negative_slope' is not an argument of 'relu'",
        ),
        (
            ["model.activation=leaky_relu", "+model.activation_args.negative_slope=steep"],
            "'model.activation_args.negative_slope' is 'steep'; it must be a number",
        ),
        (
            ["model.activation=gelu", "+model.activation_args.approximate=exact"],
            "'model.activation_args.approximate' is 'exact'; allowed values: none, tanh",
        ),
        (["+model.init.gain=2"], "model.init.gain"),
    ],
)
def test_bad_model_value_raises_one_line_config_error_naming_the_key(overrides, expected):
    with pytest.raises(ConfigError) as info:
        validate(compose_cfg(*overrides))
    assert expected in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    "overrides",
    [
        ["model.dropout=[0.1,0.3]"],
        ["model.hidden_sizes=[]", "model.dropout=[]"],
        ["model.norm=layernorm", "model.norm_position=after"],
        ["model.activation=leaky_relu", "+model.activation_args.negative_slope=0.1"],
        ["model.activation=rrelu", "+model.activation_args={lower:0.1,upper:0.2}"],
        ["model.init.scheme=kaiming", "model.init.mode=fan_out", "model.init.distribution=uniform"],
        ["model.init.scheme=constant", "model.init.value=-0.5"],
        list(EMBEDDING),
    ],
)
def test_good_model_values_validate(overrides):
    validate(compose_cfg(*overrides))


def test_monitorable_metric_names_are_those_each_task_logs():
    from mlplab.models.checks import TASK_METRICS
    from mlplab.models.tasks import TASKS, make_task

    objective = {"loss": "auto", "label_smoothing": 0.0, "huber_delta": 1.0, "output_bound": "none"}
    meta = {"class_names": ["a", "b", "c"], "target_names": ["y"]}
    logged = {t: tuple(sorted(make_task(t, objective).metrics(meta))) for t in TASKS}
    assert logged == TASK_METRICS
