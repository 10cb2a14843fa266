"""The search space's rules (training/search.py), before anything trains."""

from __future__ import annotations

import optuna
import pytest

from mlplab.errors import ConfigError
from mlplab.training.search import encode, override, parse_space


def test_nested_and_dotted_keys_name_the_same_train_keys():
    nested = parse_space({"optimizer": {"lr": {"type": "float", "low": 1e-4, "high": 1e-1}}})
    dotted = parse_space({"optimizer.lr": {"type": "float", "low": 1e-4, "high": 1e-1}})
    assert [p.key for p in nested] == [p.key for p in dotted] == ["optimizer.lr"]


@pytest.mark.parametrize(
    ("spec", "key"),
    [
        ({"type": "beta"}, "search.space.model.dropout.type"),
        ({"type": "float", "low": 0.6, "high": 0.5}, "search.space.model.dropout.low"),
        ({"type": "float", "low": 0.0, "high": 0.5, "log": True}, "search.space.model.dropout.low"),
        ({"type": "int", "low": 0.5, "high": 2}, "search.space.model.dropout.low"),
        ({"type": "categorical", "choices": []}, "search.space.model.dropout.choices"),
        ({"type": "float", "low": 0, "high": 1, "hi": 2}, "search.space.model.dropout.hi"),
    ],
)
def test_a_bad_distribution_is_refused_naming_its_key(spec, key):
    with pytest.raises(ConfigError, match=f"config key '{key}'"):
        parse_space({"model": {"dropout": spec}})


def test_list_choices_are_sampled_as_text_and_returned_as_lists():
    (param,) = parse_space(
        {"model.hidden_sizes": {"type": "categorical", "choices": [[64], [128, 64]]}}
    )
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    seen = []
    for _ in range(8):
        trial = study.ask()
        value = param.suggest(trial)
        assert trial.params["model.hidden_sizes"] == encode(value)
        seen.append(value)
    assert {tuple(v) for v in seen} == {(64,), (128, 64)}
    assert override("model.hidden_sizes", [128, 64]) == "model.hidden_sizes=[128,64]"
