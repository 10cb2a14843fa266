"""The MLP builder: block structure, biases, norms, dropout, token input, the spec, presets."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf
from torch import nn

from mlplab.errors import ConfigError
from mlplab.models.checks import check_input_matches_data
from mlplab.models.initializers import resolve_scheme
from mlplab.models.mlp import MLPSpec, build_mlp, spec_from_config
from mlplab.models.module import MLPModule
from mlplab.training.checks import validate
from tests.conftest import compose_cfg, group_options, make_module, make_spec


def _linears(net: nn.Module) -> list[nn.Linear]:
    return [m for m in net.modules() if isinstance(m, nn.Linear)]


def test_hidden_blocks_are_named_and_ordered_linear_norm_activation_dropout():
    net = build_mlp(make_spec(8, 3, (16, 4), "tanh", "batchnorm", 0.2))
    assert [name for name, _ in net.named_children()] == ["hidden_0", "hidden_1", "output"]
    assert list(dict(net.hidden_0.named_children())) == ["linear", "norm", "activation", "dropout"]
    assert isinstance(net.hidden_0.activation, nn.Tanh)
    assert net(torch.randn(5, 8)).shape == (5, 3)


def test_no_linear_before_a_norm_has_a_bias():
    net = build_mlp(make_spec(8, 3, (16, 16), norm="batchnorm"))
    assert net.hidden_0.linear.bias is None and net.hidden_1.linear.bias is None
    assert net.output.bias is not None


def test_depth_zero_is_a_linear_model():
    net = build_mlp(make_spec(8, 3, ()))
    assert len(_linears(net)) == 1


def test_he_normal_weights_have_std_sqrt_2_over_fan_in():
    torch.manual_seed(0)
    net = build_mlp(make_spec(512, 10, (512,), "relu", norm="none", init_scheme="auto"))
    w = net.hidden_0.linear.weight
    assert w.std().item() == pytest.approx(math.sqrt(2 / 512), rel=0.05)
    assert torch.all(net.hidden_0.linear.bias == 0)


def test_glorot_uniform_for_tanh_bounds_weights_at_sqrt_6_over_fan_sum():
    net = build_mlp(make_spec(300, 10, (100,), "tanh", init_distribution="uniform"))
    bound = math.sqrt(6 / (300 + 100))
    w = net.hidden_0.linear.weight
    assert w.abs().max().item() <= bound
    assert w.abs().max().item() > 0.95 * bound


def test_init_scale_multiplies_the_weights():
    torch.manual_seed(0)
    base = build_mlp(make_spec(256, 2, (256,), "relu")).hidden_0.linear.weight.std()
    torch.manual_seed(0)
    scaled = build_mlp(make_spec(256, 2, (256,), "relu", init_scale=10)).hidden_0.linear.weight
    assert scaled.std().item() == pytest.approx(10 * base.item(), rel=1e-5)


@pytest.mark.parametrize("norm", ["batchnorm", "layernorm"])
@pytest.mark.parametrize(
    ("position", "order"),
    [("before", ["linear", "norm", "activation"]), ("after", ["linear", "activation", "norm"])],
)
def test_norm_position_orders_the_block_and_no_linear_before_a_norm_has_a_bias(
    norm, position, order
):
    spec = make_spec(8, 3, (16, 16), "relu", norm, dropout=0.0, norm_position=position)
    net = build_mlp(spec)
    norm_class = {"batchnorm": nn.BatchNorm1d, "layernorm": nn.LayerNorm}[norm]
    for block in (net.hidden_0, net.hidden_1):
        assert list(dict(block.named_children())) == order
        assert isinstance(block.norm, norm_class)
        assert block.linear.bias is None
    assert net.output.bias is not None


def test_without_a_norm_every_linear_has_a_bias():
    net = build_mlp(make_spec(8, 3, (16, 16), norm="none"))
    assert all(layer.bias is not None for layer in _linears(net))


def test_dropout_list_sets_one_probability_per_block_and_zero_drops_the_module():
    net = build_mlp(make_spec(8, 3, (16, 16, 16), dropout=(0.1, 0.0, 0.5)))
    assert net.hidden_0.dropout.p == 0.1
    assert not hasattr(net.hidden_1, "dropout")
    assert net.hidden_2.dropout.p == 0.5


@pytest.mark.parametrize(
    ("activation", "dropout_type", "expected"),
    [
        ("selu", "auto", nn.AlphaDropout),
        ("relu", "auto", nn.Dropout),
        ("selu", "standard", nn.Dropout),
        ("relu", "alpha", nn.AlphaDropout),
    ],
)
def test_auto_dropout_is_alpha_after_selu_and_standard_otherwise(
    activation, dropout_type, expected
):
    net = build_mlp(make_spec(8, 3, (16,), activation, dropout=0.1, dropout_type=dropout_type))
    assert type(net.hidden_0.dropout) is expected


def test_alpha_dropout_keeps_selu_mean_and_variance_where_standard_dropout_does_not():
    torch.manual_seed(0)
    h = nn.SELU()(torch.randn(200_000, 32))
    alpha = nn.AlphaDropout(0.2).train()(h)
    standard = nn.Dropout(0.2).train()(h)
    assert alpha.mean().item() == pytest.approx(h.mean().item(), abs=0.1)
    assert alpha.var().item() == pytest.approx(h.var().item(), rel=0.1)
    assert standard.var().item() > 1.2 * h.var().item()  # 1 / (1 - p) = 1.25 times


def test_activation_args_reach_the_activation_in_every_block():
    spec = make_spec(8, 3, (16, 16), "leaky_relu", activation_args=(("negative_slope", 0.1),))
    net = build_mlp(spec)
    assert net.hidden_0.activation.negative_slope == 0.1
    assert net.hidden_1.activation.negative_slope == 0.1


def _char_spec(**kwargs) -> dict:
    """The makemore-style token MLP: 3 tokens -> 10-dim embeddings -> 200 tanh units -> 27."""
    char = {"hidden_sizes": (200,), "activation": "tanh", "norm": "batchnorm", "dropout": 0.0}
    token = {"input_kind": "embedding", "vocab_size": 27, "context_length": 3, "embedding_dim": 10}
    return make_spec(3, 27, **{**char, **token, **kwargs}).to_dict()


def _char_module() -> MLPModule:
    return make_module(
        _char_spec(),
        {"task": "multiclass", "class_names": [chr(96 + i) for i in range(27)]},
        optimizer={"_target_": "torch.optim.Adam", "_partial_": True, "lr": 1e-3},
    )


def test_embedding_input_maps_token_windows_to_one_logit_per_token():
    torch.manual_seed(0)
    model = _char_module().eval()
    tokens = torch.randint(0, 27, (5, 3), dtype=torch.int64)
    assert model(tokens).shape == (5, 27)
    assert model.net.embedding.weight.shape == (27, 10)
    assert list(dict(model.net.named_children())) == ["embedding", "flatten", "hidden_0", "output"]
    assert model.net.hidden_0.linear.in_features == 3 * 10


def test_embedding_input_ignores_the_feature_scaling_buffers():
    torch.manual_seed(0)
    model = _char_module().eval()
    tokens = torch.randint(0, 27, (5, 3), dtype=torch.int64)
    before = model(tokens)
    model.set_input_scaling(np.full(3, 100.0), np.full(3, 1e-3))
    torch.testing.assert_close(model(tokens), before, rtol=0, atol=0)


def test_embedding_context_length_must_match_the_datas_token_columns():
    inputs = {"kind": "embedding", "vocab_size": 27, "context_length": 3, "embedding_dim": 10}
    check_input_matches_data(inputs, {"vocab_size": 27, "n_features": 3})
    with pytest.raises(ConfigError, match="'model.input.context_length' is 3, but the data has 5"):
        check_input_matches_data(inputs, {"vocab_size": 27, "n_features": 5})
    with pytest.raises(ConfigError, match="'model.input.vocab_size' is 27, but the data has 30"):
        check_input_matches_data(inputs, {"vocab_size": 30, "n_features": 3})


def test_spec_round_trips_through_its_plain_dict_and_is_hashable():
    spec = make_spec(
        8,
        3,
        (16, 4),
        "leaky_relu",
        "layernorm",
        dropout=(0.1, 0.2),
        activation_args=(("negative_slope", 0.1),),
        norm_position="after",
        init_mode="fan_out",
    )
    plain = spec.to_dict()
    assert plain["dropout"] == [0.1, 0.2] and plain["activation_args"] == {"negative_slope": 0.1}
    assert MLPSpec.from_dict(plain) == spec
    assert hash(MLPSpec.from_dict(plain)) == hash(spec)


@pytest.mark.parametrize("preset", group_options("model"))
def test_every_model_preset_validates_and_builds(preset):
    model_cfg = OmegaConf.to_container(validate(compose_cfg(f"model={preset}")).model)
    inputs = model_cfg["input"]
    if inputs["kind"] == "embedding":
        x = torch.randint(0, inputs["vocab_size"], (4, inputs["context_length"]))
    else:
        x = torch.randn(4, 64)
    net = build_mlp(spec_from_config(model_cfg, x.shape[1], 10))
    assert net.eval()(x).shape == (4, 10)


def test_selu_preset_is_a_self_normalising_net():
    spec = spec_from_config(
        OmegaConf.to_container(validate(compose_cfg("model=selu")).model), 64, 10
    )
    net = build_mlp(spec)
    assert isinstance(net.hidden_0.activation, nn.SELU)
    assert isinstance(net.hidden_0.dropout, nn.AlphaDropout)
    assert not hasattr(net.hidden_0, "norm")
    assert resolve_scheme(spec.init_scheme, spec.activation) == "lecun"
